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

const cli = path.join(__dirname, '..', 'dist', 'src', 'cli', 'index.js');

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

  it('admits deliveries as its worker finishes their attempts: never more in flight than the dispatch concurrency, every start eager', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const env = { ...stackEnv(stack.config), PORT: String(port), HOOKFLOW_METRICS_TOKEN: metricsToken };
    const proc = spawn(process.execPath, [cli, 'server'], {
      // Held for as long as the attempts hang here (by default a second at most).
      env: { ...env, HOOKFLOW_DISPATCH_CONCURRENCY: '3', HOOKFLOW_DISPATCH_HOLD_MS: '600000' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    proc.stdout!.on('data', (d) => (output = (output + d).slice(-5000)));
    proc.stderr!.on('data', (d) => (output = (output + d).slice(-5000)));
    await eventually(
      async () => proc.exitCode === null && (await fetch(`${url}/api/v1/health`)).ok,
      `hookflow server on ${url} (output: ${output})`,
      { timeoutMs: 90_000, intervalMs: 250 },
    );
    const appId = await seedApp(stack.services);
    const ep = await seedEndpoint(stack.services, appId, { url: receiver.url('/admission') });
    receiver.secrets = [ep.secret];
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    receiver.behaviour = (r) => (r.path === '/admission' ? { status: 200, after: gate } : { status: 200 });
    const headers = { authorization: `Bearer ${stack.adminToken}`, 'content-type': 'application/json' };
    for (let i = 0; i < 12; i++) {
      const res = await fetch(`${url}/api/v1/app/${appId}/msg`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ eventType: 'invoice.paid', payload: { i } }),
      });
      expect(res.status).toBe(202);
    }
    type Details = { dispatcher: { queued: number; inFlight: number; awaitingAttempt: number } };
    const details = async () =>
      ((await (await fetch(`${url}/api/v1/health/details`)).json()) as Details).dispatcher;
    // Three attempts hang at the receiver: their deliveries keep their places, the rest wait their turn.
    const held = () => receiver.received.filter((r) => r.path === '/admission').length;
    await eventually(() => held() === 3, 'three attempts at the receiver', { timeoutMs: 60_000 });
    await eventually(async () => {
      const d = await details();
      return d.inFlight === 3 && d.awaitingAttempt === 3 && d.queued === 9;
    }, 'three deliveries held by their attempts, nine queued');
    expect(held()).toBe(3);
    open();
    await eventually(
      () => new Set(receiver.received.filter((r) => r.path === '/admission').map((r) => r.id)).size === 12,
      'all twelve delivered',
      { timeoutMs: 90_000 },
    );
    await eventually(async () => {
      const d = await details();
      return d.inFlight + d.queued === 0;
    }, 'the dispatcher idle');
    const metrics = await (
      await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } })
    ).text();
    expect(sample(metrics, 'hookflow_delivery_workflow_starts_total', { eager: 'true' })).toBe(12);
    expect(sample(metrics, 'hookflow_delivery_workflow_starts_total', { eager: 'false' })).toBe(0);
    // Each start is on record, stamped by its first attempt's record (the dispatcher's own
    // stamp is skipped then): the reconciler must not take any of them for unstarted.
    const unstamped: Array<{ n: number }> = await stack.services.orm.em.getConnection().execute(
      `select count(*)::int as n from deliveries
          where app_id = ? and (dispatched_at is null or workflow_id is null or attempt_count <> 1)`,
      [appId],
    );
    expect(unstamped[0].n).toBe(0);
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
