import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../src/temporal/dev-server';
import { eventually } from './harness/wait';

const root = path.join(__dirname, '..');
const cli = path.join(root, 'dist', 'src', 'cli', 'index.js');

/** The shell blocks of the README's "Run it" section, in order: what a new user pastes. */
function quickStart(): string[] {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  const from = readme.indexOf('## Run it');
  const section = readme.slice(from, readme.indexOf('\n## ', from + 1));
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]);
}

/** A child in its own process group (as a terminal's job is), with its output kept. */
function start(command: string, args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(command, args, { cwd: root, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  child.stdout!.on('data', (d) => (out.stdout += d));
  child.stderr!.on('data', (d) => (out.stderr += d));
  // 'close': every holder of its output is gone, background jobs included.
  const closed = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return { child, out, closed, all: () => `${out.stdout}\n${out.stderr}` };
}

/** This run's environment without the stack the other tests share: `npm start` makes its own. */
function freshEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of Object.keys(env)) {
    if (/^(DATABASE_URL|TEMPORAL_|HOOKFLOW_)/.test(name)) delete env[name];
  }
  return env;
}

/**
 * The README's quick start, pasted as is from a fresh state: `npm start` (as its script
 * runs it), then the second terminal's block, then Ctrl-C. Only the state folder and the
 * ports differ, so that this run cannot meet another one on the machine.
 */
describe('README quick start', () => {
  const state = mkdtempSync(path.join(os.tmpdir(), 'hookflow-quick-start-'));
  chmodSync(state, 0o755); // embedded PostgreSQL runs as another user under root
  let port: number;
  let dev: ReturnType<typeof start>;
  const jobs: ChildProcess[] = [];

  beforeAll(async () => {
    const [first] = quickStart();
    expect(first).toBe('npm ci && npm start\n');
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
    expect(pkg.scripts.start).toBe('node dist/src/cli/index.js dev');
    // `npx hookflow` runs the bin through a link npx made once for this folder, and does not
    // mark it executable again: every build must (tsc writes files without the bit).
    expect(pkg.bin.hookflow).toBe('dist/src/cli/index.js');
    expect((statSync(cli).mode & 0o111).toString(8)).toBe('111');

    port = await freePort();
    dev = start(process.execPath, [cli, 'dev'], {
      ...freshEnv(),
      HOOKFLOW_STATE_DIR: state,
      PORT: String(port),
      HOOKFLOW_POSTGRES_PORT: String(await freePort()),
      HOOKFLOW_TEMPORAL_PORT: String(await freePort()),
      HOOKFLOW_TEMPORAL_UI_PORT: String(await freePort()),
      // The binary the test run already has, rather than a pip install into the fresh state.
      TEMPORAL_CLI_PATH: process.env.HOOKFLOW_TEST_TEMPORAL_CLI,
    });
    jobs.push(dev.child);
    await eventually(
      () => {
        if (dev.child.exitCode !== null) throw new Error(`npm start exited: ${dev.all()}`);
        return dev.out.stdout.includes('hookflow: ready');
      },
      'npm start to be ready',
      { timeoutMs: 180_000, intervalMs: 250 },
    ).catch((err: Error) => {
      throw new Error(`${err.message}; its output: ${dev.all()}`);
    });
  }, 200_000);

  afterAll(() => {
    for (const job of jobs) {
      try {
        if (job.pid) process.kill(-job.pid, 'SIGKILL'); // whatever a failed test left running
      } catch {
        /* gone already */
      }
    }
  });

  it('sends a first webhook that the listener verifies, then the listener removes its endpoint', async () => {
    const [, steps] = quickStart();
    // The commands as written; only the address and the state folder are this run's.
    for (const written of ['localhost:8080', '.hookflow/admin-token']) expect(steps).toContain(written);
    const script = steps
      .replaceAll('localhost:8080', `127.0.0.1:${port}`)
      .replaceAll('.hookflow/admin-token', path.join(state, 'admin-token'));
    const shell = start('bash', ['-c', script], {
      ...freshEnv(),
      HOOKFLOW_STATE_DIR: state,
      HOOKFLOW_URL: `http://127.0.0.1:${port}`,
    });
    jobs.push(shell.child);
    await Promise.race([
      shell.closed,
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error(`the quick start did not end: ${shell.all()}`)), 150_000).unref(),
      ),
    ]);
    const output = shell.all();

    // The listener printed the delivery, verified with the secret it read from the API...
    expect(output).toMatch(/^\S+Z {2}invoice\.paid {2}msg_\w+ {2}attempt 1 {2}✔ signature verified$/m);
    const endpointId = /as endpoint (ep_\w+) of acme, made for this run/.exec(output)?.[1];
    expect(endpointId).toBeDefined();
    // ...`send --wait` printed the outcome...
    expect(output).toMatch(
      new RegExp(`^✔ ${endpointId} http://127\\.0\\.0\\.1:\\d+/: delivered, HTTP 200 \\(1 attempt\\)$`, 'm'),
    );
    // ...and the listener, stopped, deleted its endpoint.
    expect(output).toContain(`deleted endpoint ${endpointId}`);
    const token = readFileSync(path.join(state, 'admin-token'), 'utf8').trim();
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/app/acme/endpoint`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(((await res.json()) as { data: unknown[] }).data).toEqual([]);
  }, 200_000);

  it('ends with "stopped" after Ctrl-C', async () => {
    // Ctrl-C signals the terminal's whole foreground group: the launcher, PostgreSQL, Temporal.
    process.kill(-dev.child.pid!, 'SIGINT');
    expect(await dev.closed).toBe(0);
    const lines = dev.out.stdout.trim().split('\n');
    expect(lines.at(-1)).toBe('hookflow: stopped');
    expect(lines).toContain('hookflow: stopping…');
  }, 120_000);
});
