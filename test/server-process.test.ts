import { randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { startStack, type Stack } from './harness/stack';
import { stackEnv } from './harness/processes';
import { Receiver } from './harness/receiver';
import { seedApp, seedEndpoint } from './harness/seed';
import { eventually } from './harness/wait';
import { sample } from './harness/prometheus';
import { freePort } from '../src/temporal/dev-server';

const cli = path.join(__dirname, '..', 'dist', 'src', 'cli.js');

/**
 * `hookflow server`, the compiled build as production runs it: API and worker in one
 * process on one Temporal connection, so deliveries start eagerly on the worker (and its
 * workflow code is the bundle made at build time).
 */
describe('hookflow server (API and worker in one process)', () => {
  let stack: Stack; // only for its database, Temporal server and task queue: no worker of its own
  let receiver: Receiver;
  let child: ChildProcess | null = null;
  let output = '';
  const metricsToken = `metrics_${randomBytes(8).toString('hex')}`;

  beforeAll(async () => {
    stack = await startStack({}, { worker: false });
    receiver = await new Receiver().listen();
  });
  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await receiver?.close();
    await stack?.close();
  });

  it('delivers a message it accepted, started eagerly, and stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    child = spawn(process.execPath, [cli, 'server'], {
      env: { ...stackEnv(stack.config), PORT: String(port), HOOKFLOW_METRICS_TOKEN: metricsToken },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d) => (output = (output + d).slice(-5000)));
    child.stderr!.on('data', (d) => (output = (output + d).slice(-5000)));
    await eventually(
      async () => child!.exitCode === null && (await fetch(`${url}/api/v1/health`)).ok,
      `hookflow server on ${url} (output: ${output})`,
      { timeoutMs: 90_000, intervalMs: 250 },
    );

    const appId = await seedApp(stack.services);
    const ep = await seedEndpoint(stack.services, appId, { url: receiver.url() });
    receiver.secrets = [ep.secret];
    const res = await fetch(`${url}/api/v1/app/${appId}/msg`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ eventType: 'invoice.paid', payload: { n: 1 } }),
    });
    expect(res.status).toBe(202);
    const msgId = ((await res.json()) as { id: string }).id;
    await eventually(() => receiver.countById(msgId) === 1, 'the delivery', { timeoutMs: 90_000 });
    expect(receiver.received.every((r) => r.verified)).toBe(true);

    const metrics = await (
      await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } })
    ).text();
    // Started through the worker's own connection: the server handed the first task straight back.
    expect(sample(metrics, 'hookflow_delivery_workflow_starts_total', { eager: 'true' })).toBe(1);
    expect(sample(metrics, 'hookflow_delivery_workflow_starts_total', { eager: 'false' })).toBe(0);

    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
