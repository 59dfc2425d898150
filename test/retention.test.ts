import { randomBytes } from 'node:crypto';
import { startStack, type Stack } from './harness/stack';
import { Receiver } from './harness/receiver';
import { seedApp, seedEndpoint, seedMessages } from './harness/seed';
import { eventually } from './harness/wait';
import { ensureRetentionSchedule } from '../src/worker';
import { retryNowSignal } from '../workflows/definitions';

/**
 * Retention (SPEC "Delivery semantics"): the PruneExpiredPayloads workflow removes payloads
 * past their own expiry, and messages past their application's retention with their
 * content, deliveries and attempts.
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
      // As Svix answers a message whose payload expired.
      expect(msg.body.payload).toEqual({ expired: true });
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
      // Let the scheduled pass end, so it does not race the next test's rows.
      await eventually(async () => {
        for await (const _ of stack.services.temporal.workflow.list({
          query: `WorkflowType = 'PruneExpiredPayloads' AND ExecutionStatus = 'Running'`,
        }))
          return false;
        return true;
      }, 'the scheduled pass to end');
    } finally {
      await schedule.delete();
    }
  });

  it("deletes messages past their application's retention with content, deliveries and attempts", async () => {
    const day = 86_400_000;
    const oldAt = new Date(Date.now() - 10 * day);
    const newAt = new Date(Date.now() - 1 * day);
    // A week's retention: 10-day-old rows go, day-old rows stay.
    const appId = await seedApp(stack.services);
    await db().execute('update applications set retention_days = 7 where id = ?', [appId]);
    const ep = await seedEndpoint(stack.services, appId, { url: ok.url() });
    const old = await seedMessages(stack.services, appId, ep.id, { at: oldAt, count: 7 });
    const fresh = await seedMessages(stack.services, appId, ep.id, { at: newAt, count: 3 });
    // Still being delivered: kept until its delivery settles (its workflow would write an attempt).
    const [pending] = await seedMessages(stack.services, appId, ep.id, {
      at: oldAt,
      count: 1,
      state: 'pending',
    });
    // A manual resend is a delivery row of its own.
    await db().execute(
      `insert into deliveries (msg_id, endpoint_id, app_id, event_type, state, workflow_id, trigger)
       values (?, ?, ?, 'seeded', 'success', ?, 'manual')`,
      [old[0], ep.id, appId, `resend-${old[0]}`],
    );
    // The default retention (90 days) keeps another application's 10-day-old messages.
    const other = await seedApp(stack.services);
    const otherEp = await seedEndpoint(stack.services, other, { url: ok.url() });
    const otherOld = await seedMessages(stack.services, other, otherEp.id, { at: oldAt, count: 2 });

    // Two passes at once (as on two workers), in batches of 2 and 3 calls per run, so both
    // the keyset loop and continue-as-new are taken.
    const run = () =>
      stack.services.temporal.workflow.execute('PruneExpiredPayloads', {
        taskQueue: stack.config.TEMPORAL_TASK_QUEUE,
        workflowId: `test-retain-${randomBytes(6).toString('hex')}`,
        args: [{ batchSize: 2, batchesPerRun: 3 }],
      });
    // (Row counts are not asserted from the results: the schedule triggered above may still be
    // running and take some of these rows first. The rows left are what counts.)
    await Promise.all([run(), run()]);

    const idsIn = async (table: string, column: string, app: string) =>
      (
        (await db().execute(
          `select distinct ${column} as id from ${table} where ${table === 'message_content' ? 'msg_id in (select id from messages where app_id = ?)' : 'app_id = ?'} order by 1`,
          [app],
        )) as Array<{ id: string }>
      ).map((r) => r.id);
    const kept = [...fresh, pending].sort();
    expect(await idsIn('messages', 'id', appId)).toEqual(kept);
    expect(await idsIn('message_content', 'msg_id', appId)).toEqual(kept);
    expect(await idsIn('deliveries', 'msg_id', appId)).toEqual(kept);
    expect(await idsIn('attempts', 'msg_id', appId)).toEqual(kept);
    expect(await idsIn('messages', 'id', other)).toEqual([...otherOld].sort());
    expect(await idsIn('attempts', 'msg_id', other)).toEqual([...otherOld].sort());

    // Nothing orphaned: every delivery, attempt and content row has its message.
    for (const [table, column] of [
      ['deliveries', 'msg_id'],
      ['attempts', 'msg_id'],
      ['message_content', 'msg_id'],
    ]) {
      const orphans = (await db().execute(
        `select count(*)::int as n from ${table} t where not exists (select 1 from messages m where m.id = t.${column})`,
      )) as Array<{ n: number }>;
      expect([table, orphans[0].n]).toEqual([table, 0]);
    }

    // Progress is in /metrics.
    const scraped = await stack.call('GET', '/metrics');
    expect(scraped.body).toMatch(/hookflow_retention_deleted_rows_total\{table="messages"\} [1-9]/);

    // Once the pending delivery settles, the next pass takes it.
    await db().execute(`update deliveries set state = 'failed' where msg_id = ?`, [pending]);
    await run();
    expect(await idsIn('messages', 'id', appId)).toEqual([...fresh].sort());
    expect(await idsIn('attempts', 'msg_id', appId)).toEqual([...fresh].sort());
  });
});
