import { randomBytes } from 'node:crypto';
import { startStack, type Stack } from './harness/stack';
import { Receiver } from './harness/receiver';
import { seedApp, seedEndpoint } from './harness/seed';
import { eventually } from './harness/wait';
import { ensureRetentionSchedule } from '../src/worker';
import { retryNowSignal } from '../workflows/definitions';

/**
 * Payload retention (SPEC "Delivery semantics"): expired payloads are removed by the
 * PruneExpiredPayloads workflow; messages, deliveries and attempts stay.
 */
describe('payload retention', () => {
  let stack: Stack;
  let ok: Receiver;
  let failing: Receiver;
  const db = () => stack.services.orm.em.getConnection();
  /** The stored content's text; null once deleted. */
  const payloadOf = async (id: string) =>
    (
      (await db().execute('select payload from message_content where msg_id = ?', [id])) as Array<{
        payload: string;
      }>
    )[0]?.payload ?? null;
  const expire = async (ids: string[]) => {
    for (const table of ['messages', 'message_content'])
      await db().execute(
        `update ${table} set expires_at = now() - interval '1 minute' where ${table === 'messages' ? 'id' : 'msg_id'} in (${ids.map(() => '?').join(', ')})`,
        ids,
      );
  };

  beforeAll(async () => {
    // One retry, far away: a failing delivery stays pending until it is told to retry now.
    stack = await startStack({ HOOKFLOW_RETRY_SCHEDULE: '600' });
    ok = await new Receiver().listen();
    failing = await new Receiver().listen();
    failing.behaviour = () => ({ status: 500 });
  });
  afterAll(async () => {
    await stack?.close();
    await ok?.close();
    await failing?.close();
  });

  async function send(appId: string, eventType: string, payload: Record<string, unknown>): Promise<string> {
    const res = await stack.call('POST', `/api/v1/app/${appId}/msg`, { eventType, payload });
    expect(res.status).toBe(202);
    return res.body.id;
  }

  it('prunes exactly the expired payloads; attempts stay; a pending delivery ends as cancelled', async () => {
    const appId = await seedApp(stack.services);
    await seedEndpoint(stack.services, appId, { url: ok.url(), eventTypes: ['order.paid'] });
    const bad = await seedEndpoint(stack.services, appId, {
      url: failing.url(),
      eventTypes: ['order.failing'],
    });

    const expired = [await send(appId, 'order.paid', { n: 1 }), await send(appId, 'order.paid', { n: 2 })];
    const kept = await send(appId, 'order.paid', { n: 3, keep: true });
    const pending = await send(appId, 'order.failing', { n: 4 });
    await eventually(() => [...expired, kept].every((id) => ok.countById(id) === 1), 'the three deliveries');
    await eventually(async () => {
      const rows = (await db().execute('select state, attempt_count from deliveries where msg_id = ?', [
        pending,
      ])) as Array<{ state: string; attempt_count: number }>;
      return rows[0]?.state === 'pending' && rows[0].attempt_count === 1;
    }, 'the failing delivery waiting for its retry');

    await expire([...expired, pending]);
    const idemExpired = `test-${randomBytes(8).toString('hex')}`;
    const idemLive = `test-${randomBytes(8).toString('hex')}`;
    await db().execute(
      `insert into idempotency_records (key, state, created_at, expires_at)
       values (?, 'done', now() - interval '2 days', now() - interval '1 day'), (?, 'done', now(), now() + interval '1 day')`,
      [idemExpired, idemLive],
    );

    // Batches of one prove the loop runs until nothing expired is left.
    const result = await stack.services.temporal.workflow.execute('PruneExpiredPayloads', {
      taskQueue: stack.config.TEMPORAL_TASK_QUEUE,
      workflowId: `test-prune-${randomBytes(6).toString('hex')}`,
      args: [{ batchSize: 1 }],
    });
    // Other test files share the database: at least ours were pruned.
    expect(result.payloads).toBeGreaterThanOrEqual(3);
    expect(result.idempotencyRecords).toBeGreaterThanOrEqual(1);

    for (const id of [...expired, pending]) expect(await payloadOf(id)).toBeNull();
    expect(await payloadOf(kept)).toBe('{"n":3,"keep":true}');

    for (const id of [...expired, pending]) {
      const msg = await stack.call('GET', `/api/v1/app/${appId}/msg/${id}`);
      expect(msg.status).toBe(200);
      expect(msg.body.payload).toEqual({});
      const attempts = await stack.call('GET', `/api/v1/app/${appId}/attempt/msg/${id}`);
      expect(attempts.status).toBe(200);
      expect(attempts.body.data.length).toBe(1);
    }
    expect((await stack.call('GET', `/api/v1/app/${appId}/msg/${kept}`)).body.payload).toEqual({
      n: 3,
      keep: true,
    });

    const idem = (await db().execute('select key from idempotency_records where key in (?, ?)', [
      idemExpired,
      idemLive,
    ])) as Array<{ key: string }>;
    expect(idem.map((r) => r.key)).toEqual([idemLive]);

    // The pending delivery's next attempt finds no payload: it ends cancelled, nothing sent.
    const handle = stack.services.temporal.workflow.getHandle(`deliver-${pending}-${bad.id}`);
    await handle.signal(retryNowSignal);
    expect(await handle.result()).toEqual({ status: 'cancelled', attempts: 2 });
    expect(failing.countById(pending)).toBe(1);
    const state = (await db().execute('select state from deliveries where msg_id = ?', [pending])) as Array<{
      state: string;
    }>;
    expect(state[0].state).toBe('cancelled');
  });

  it('runs from its Temporal Schedule', async () => {
    const appId = await seedApp(stack.services);
    const id = await send(appId, 'nobody.listens', { secret: 'soon gone' });
    await expire([id]);
    // Its own schedule id: the default one belongs to whatever else runs on this Temporal server.
    const scheduleId = `test-retention-${randomBytes(6).toString('hex')}`;
    await ensureRetentionSchedule(stack.services, scheduleId);
    const schedule = stack.services.temporal.schedule.getHandle(scheduleId);
    try {
      // A second call finds it up to date and leaves it alone.
      await ensureRetentionSchedule(stack.services, scheduleId);
      const described = await schedule.describe();
      expect(described.spec.intervals?.[0]?.every).toBe(3600_000);
      expect(described.action).toMatchObject({
        workflowType: 'PruneExpiredPayloads',
        taskQueue: stack.config.TEMPORAL_TASK_QUEUE,
      });
      await schedule.trigger();
      await eventually(async () => (await payloadOf(id)) === null, 'the scheduled prune');
    } finally {
      await schedule.delete();
    }
  });
});
