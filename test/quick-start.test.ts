import { chmodSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cli, devEnv, freshEnv, killJobs, root, startJob, untilReady, type Job } from './harness/launcher';

/** The shell blocks of the README's "Run it" section, in order: what a new user pastes. */
function quickStart(): string[] {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  const from = readme.indexOf('## Run it');
  const section = readme.slice(from, readme.indexOf('\n## ', from + 1));
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]);
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
  let dev: Job;
  const jobs: Job[] = [];

  beforeAll(async () => {
    const [first] = quickStart();
    expect(first).toBe('npm ci && npm start\n');
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
    expect(pkg.scripts.start).toBe('node dist/src/cli/index.js dev');
    // `npx hookflow` runs the bin through a link npx made once for this folder, and does not
    // mark it executable again: every build must (tsc writes files without the bit).
    expect(pkg.bin.hookflow).toBe('dist/src/cli/index.js');
    expect((statSync(cli).mode & 0o111).toString(8)).toBe('111');

    const env = await devEnv(state);
    port = Number(env.PORT);
    dev = startJob(process.execPath, [cli, 'dev'], env);
    jobs.push(dev);
    await untilReady(dev);
  }, 200_000);

  afterAll(() => killJobs(jobs));

  it('sends a first webhook that the listener verifies, then the listener removes its endpoint', async () => {
    const [, steps] = quickStart();
    // The commands as written; only the address and the state folder are this run's.
    for (const written of ['localhost:8080', '.hookflow/admin-token']) expect(steps).toContain(written);
    const script = steps
      .replaceAll('localhost:8080', `127.0.0.1:${port}`)
      .replaceAll('.hookflow/admin-token', path.join(state, 'admin-token'));
    const shell = startJob('bash', ['-c', script], {
      ...freshEnv(),
      HOOKFLOW_STATE_DIR: state,
      HOOKFLOW_URL: `http://127.0.0.1:${port}`,
    });
    jobs.push(shell);
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
