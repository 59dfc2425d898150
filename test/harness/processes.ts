import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { ReadyConfig } from '../../src/config';

const cli = path.join(__dirname, '..', '..', 'dist', 'src', 'cli', 'index.js');

/** Environment that makes a production process join a test stack (same keys, same task queue). */
export function stackEnv(config: ReadyConfig): NodeJS.ProcessEnv {
  return {
    ...process.env,
    DATABASE_URL: config.DATABASE_URL,
    TEMPORAL_ADDRESS: config.TEMPORAL_ADDRESS,
    TEMPORAL_TASK_QUEUE: config.TEMPORAL_TASK_QUEUE,
    HOOKFLOW_ADMIN_TOKEN: config.HOOKFLOW_ADMIN_TOKEN,
    HOOKFLOW_SECRET_KEY: config.HOOKFLOW_SECRET_KEY,
    HOOKFLOW_ALLOWED_CIDRS: config.HOOKFLOW_ALLOWED_CIDRS.join(','),
    HOOKFLOW_RETRY_SCHEDULE: config.HOOKFLOW_RETRY_SCHEDULE.join(','),
    HOOKFLOW_HTTP_TIMEOUT_MS: String(config.HOOKFLOW_HTTP_TIMEOUT_MS),
    HOOKFLOW_RECONCILE_SECONDS: String(config.HOOKFLOW_RECONCILE_SECONDS),
    HOOKFLOW_WORKFLOW_RUNNER: config.HOOKFLOW_WORKFLOW_RUNNER,
    LOG_LEVEL: 'warn',
  };
}

/** `hookflow worker` as production runs it (the compiled build), in a child process the test can kill. */
export function spawnWorker(config: ReadyConfig): ChildProcess & { output: () => string } {
  const child = spawn(process.execPath, [cli, 'worker'], {
    env: stackEnv(config),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out = (out + d).slice(-5000)));
  child.stderr!.on('data', (d) => (out = (out + d).slice(-5000)));
  return Object.assign(child, { output: () => out });
}
