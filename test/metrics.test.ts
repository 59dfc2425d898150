import { randomBytes } from 'node:crypto';
import { startStack, type Stack } from './harness/stack';
import { Receiver } from './harness/receiver';
import { seedApp, seedEndpoint } from './harness/seed';
import { eventually } from './harness/wait';
import { startMetricsServer } from '../src/metrics';
import { Dispatcher } from '../src/domain/dispatcher';
import { endpointDisabledSignal } from '../workflows/definitions';
import { sample } from './harness/prometheus';

describe('metrics', () => {
  const token = `metrics_${randomBytes(12).toString('hex')}`;
  let stack: Stack;
  let ok: Receiver;
  let failing: Receiver;

  beforeAll(async () => {
    stack = await startStack({ HOOKFLOW_METRICS_TOKEN: token, HOOKFLOW_RETRY_SCHEDULE: '600' });
    ok = await new Receiver().listen();
    failing = await new Receiver().listen();
    failing.behaviour = () => ({ status: 500 });
  });
  afterAll(async () => {
    await stack?.close();
    await ok?.close();
    await failing?.close();
  });

  async function scrape(): Promise<string> {
    const res = await fetch(`${stack.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    return res.text();
  }

  it('refuses a scrape without the metrics token, and is not behind the API token', async () => {
    expect((await fetch(`${stack.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${stack.url}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(
      401,
    );
    expect(
      (await fetch(`${stack.url}/metrics`, { headers: { authorization: `Bearer ${stack.adminToken}` } }))
        .status,
    ).toBe(401);
  });

  it('counts messages accepted, deliveries by outcome and attempt durations', async () => {
    const before = await scrape();
    expect(sample(before, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);

    const appId = await seedApp(stack.services);
    await seedEndpoint(stack.services, appId, { url: ok.url(), eventTypes: ['invoice.paid'] });
    const bad = await seedEndpoint(stack.services, appId, {
      url: failing.url(),
      eventTypes: ['invoice.failed'],
    });
    const sent: string[] = [];
    for (const eventType of ['invoice.paid', 'invoice.paid', 'invoice.paid', 'invoice.failed']) {
      const res = await stack.call('POST', `/api/v1/app/${appId}/msg`, { eventType, payload: { eventType } });
      expect(res.status).toBe(202);
      sent.push(res.body.id);
    }
    await eventually(
      () => sent.slice(0, 3).every((id) => ok.countById(id) === 1),
      'three successful deliveries',
    );
    await eventually(() => failing.countById(sent[3]) === 1, 'the failed first attempt');
    // The failing delivery waits 10 minutes for its retry; disabling ends it as cancelled.
    const handle = stack.services.temporal.workflow.getHandle(`deliver-${sent[3]}-${bad.id}`);
    await handle.signal(endpointDisabledSignal, { reason: 'test' });
    expect(await handle.result()).toEqual({ status: 'cancelled', attempts: 1 });

    const after = await eventually(async () => {
      const text = await scrape();
      return sample(text, 'hookflow_attempt_duration_seconds_count', { outcome: 'failure' }) >
        sample(before, 'hookflow_attempt_duration_seconds_count', { outcome: 'failure' })
        ? text
        : null;
    }, 'the failed attempt in the metrics');
    const delta = (name: string, labels: Record<string, string> = {}) =>
      sample(after, name, labels) - sample(before, name, labels);
    expect(delta('hookflow_messages_accepted_total')).toBe(4);
    expect(delta('hookflow_deliveries_total', { outcome: 'success' })).toBe(3);
    expect(delta('hookflow_deliveries_total', { outcome: 'cancelled' })).toBe(1);
    expect(delta('hookflow_deliveries_total', { outcome: 'failed' })).toBe(0);
    expect(delta('hookflow_attempt_duration_seconds_count', { outcome: 'success' })).toBe(3);
    expect(delta('hookflow_attempt_duration_seconds_count', { outcome: 'failure' })).toBe(1);
    expect(delta('hookflow_attempt_duration_seconds_bucket', { outcome: 'success', le: '+Inf' })).toBe(3);
    expect(after).toMatch(/^hookflow_dispatch_backlog \d+$/m);
  });

  it('reports deliveries stored but not yet started, read from PostgreSQL on scrape', async () => {
    const appId = await seedApp(stack.services);
    const msgId = `msg_${randomBytes(12).toString('hex')}`;
    const db = stack.services.orm.em.getConnection();
    await db.execute(
      `insert into messages (id, app_id, event_type, expires_at) values (?, ?, 'x', now() + interval '1 day')`,
      [msgId, appId],
    );
    try {
      await db.execute(
        `insert into deliveries (msg_id, endpoint_id, app_id, event_type, state) values (?, 'ep_none1', ?, 'x', 'pending'), (?, 'ep_none2', ?, 'x', 'pending')`,
        [msgId, appId, msgId, appId],
      );
      // Other test files share the database: at least ours (the reconciler leaves rows younger than 10 s alone).
      expect(sample(await scrape(), 'hookflow_undispatched_deliveries')).toBeGreaterThanOrEqual(2);
    } finally {
      await db.execute('delete from messages where id = ?', [msgId]);
    }
  });

  it('counts what the dispatcher leaves to the reconciler, in /metrics and health details', async () => {
    // A dispatcher of its own, two deep, starting on a task queue nobody polls.
    const dispatcher = new Dispatcher({
      orm: stack.services.orm,
      temporal: stack.services.temporal,
      taskQueue: `unpolled-${randomBytes(6).toString('hex')}`,
      schedule: [600],
      attemptTimeoutMs: 1000,
      concurrency: 1,
      maxQueued: 2,
      log: stack.services.log,
    });
    const before = sample(await scrape(), 'hookflow_dispatch_deferred_total', { reason: 'queue_full' });
    const refs = Array.from({ length: 5 }, (_, i) => ({
      msgId: `msg_${randomBytes(12).toString('hex')}`,
      endpointId: `ep_none${i}`,
      appId: 'app_none',
      eventType: 'x',
    }));
    dispatcher.enqueue(refs);
    // Two fit the queue; three are left to the reconciler (they are stored undispatched).
    expect(dispatcher.stats()).toMatchObject({
      maxQueued: 2,
      deferredToReconciler: { queueFull: 3, startFailed: 0 },
    });
    await dispatcher.idle();
    expect(sample(await scrape(), 'hookflow_dispatch_deferred_total', { reason: 'queue_full' })).toBe(
      before + 3,
    );
    for (const r of refs.slice(0, 2))
      await stack.services.temporal.workflow
        .getHandle(`deliver-${r.msgId}-${r.endpointId}`)
        .terminate('test');

    const details = await stack.call('GET', '/api/v1/health/details', undefined, null);
    expect(details.body.dispatcher).toEqual({
      awaitingAttempt: 0,
      backlog: expect.any(Number),
      queued: expect.any(Number),
      inFlight: expect.any(Number),
      maxQueued: expect.any(Number),
      deferredToReconciler: { queueFull: expect.any(Number), startFailed: expect.any(Number) },
      undispatched: expect.any(Number),
    });
  });

  it('counts bulk replays and the deliveries they start', async () => {
    const appId = await seedApp(stack.services);
    await seedEndpoint(stack.services, appId, { url: ok.url() });
    const msg = await stack.call('POST', `/api/v1/app/${appId}/msg`, {
      eventType: 'order.created',
      payload: { a: 1 },
    });
    await eventually(() => ok.countById(msg.body.id) === 1, 'the first delivery');
    await eventually(async () => {
      const r = (await stack.services.orm.em
        .getConnection()
        .execute('select state from deliveries where msg_id = ?', [msg.body.id])) as Array<{ state: string }>;
      return r[0]?.state === 'success';
    }, 'the delivery recorded as a success');

    const before = await scrape();
    const since = new Date(Date.now() - 3600_000).toISOString();
    const task = await stack.call('POST', `/api/v1/app/${appId}/replay`, { since, status: 'all' });
    expect(task.status).toBe(202);
    const done = await eventually(async () => {
      const t = await stack.call('GET', `/api/v1/background-task/${task.body.id}`);
      return t.body.status === 'finished' ? t.body : null;
    }, 'the replay to finish');
    expect(done.data.started).toBe(1);
    await eventually(() => ok.countById(msg.body.id) === 2, 'the replayed delivery');

    const after = await scrape();
    const delta = (name: string, labels: Record<string, string> = {}) =>
      sample(after, name, labels) - sample(before, name, labels);
    expect(delta('hookflow_replay_started_total')).toBe(1);
    expect(delta('hookflow_replay_deliveries_total', { result: 'started' })).toBe(1);
    expect(delta('hookflow_replay_finished_total', { status: 'finished' })).toBe(1);
  });

  it('serves the same metrics from a worker-only process on HOOKFLOW_WORKER_METRICS_PORT', async () => {
    const server = await startMetricsServer({ ...stack.services, port: 0, host: '127.0.0.1', token });
    try {
      expect((await fetch(server.url)).status).toBe(401);
      const res = await fetch(server.url, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text).toContain('# TYPE hookflow_deliveries_total counter');
      expect(text).toContain('# TYPE hookflow_attempt_duration_seconds histogram');
      expect(text).toMatch(/^hookflow_undispatched_deliveries \d+$/m);
      expect(
        (
          await fetch(server.url.replace('/metrics', '/other'), {
            headers: { authorization: `Bearer ${token}` },
          })
        ).status,
      ).toBe(404);
    } finally {
      await server.close();
    }
  });
});
