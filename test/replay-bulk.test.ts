import { newId } from '../src/ids';
import { progressQuery } from '../workflows/definitions';
import { startStack, type Stack } from './harness/stack';
import { Receiver } from './harness/receiver';
import { seedApp, seedEndpoint } from './harness/seed';
import { eventually } from './harness/wait';

/**
 * Bulk replay over rows seeded straight into PostgreSQL (fast), delivered through the real
 * worker to a receiver that counts by webhook-id and path; cancellation; a worker restart.
 */
describe('bulk replay', () => {
  let stack: Stack;
  let receiver: Receiver;
  const delivered = new Map<string, number>();
  const db = () => stack.services.orm.em.getConnection();
  const count = async (sql: string, args: unknown[]) => Number((await db().execute(sql, args))[0].n);
  const okCount = (msgId: string, path: string) => delivered.get(`${msgId} ${path}`) ?? 0;
  const distinct = (path: string) => [...delivered.keys()].filter((k) => k.endsWith(` ${path}`)).length;
  const duplicates = () => [...delivered.entries()].filter(([, n]) => n > 1);

  beforeAll(async () => {
    stack = await startStack({ HOOKFLOW_RETRY_SCHEDULE: '1' });
    receiver = await new Receiver().listen();
    receiver.behaviour = (r) => {
      const key = `${r.id} ${r.path}`;
      delivered.set(key, (delivered.get(key) ?? 0) + 1);
      return { status: 200, body: '' };
    };
  });
  afterAll(async () => {
    await stack?.close();
    await receiver?.close();
  });

  /** Messages created over the last minute, with deliveries rows in the given state per endpoint (none = missing). */
  async function seedMessages(
    appId: string,
    n: number,
    deliveries: Array<{ endpointId: string; state: string }>,
  ): Promise<string[]> {
    const start = Date.now() - 60_000;
    const ids = Array.from({ length: n }, (_, i) => newId('msg', start + Math.floor((i * 50_000) / n)));
    for (let i = 0; i < ids.length; i += 500) {
      const batch = ids.slice(i, i + 500);
      await db().execute(
        `insert into messages (id, app_id, event_type, expires_at) values ${batch.map(() => `(?, ?, 'bulk.event', now() + interval '1 day')`).join(', ')}`,
        batch.flatMap((id) => [id, appId]),
      );
      await db().execute(
        `insert into message_content (msg_id, payload, expires_at) values ${batch.map(() => `(?, '{"bulk":true}', now() + interval '1 day')`).join(', ')}`,
        batch,
      );
      for (const d of deliveries) {
        await db().execute(
          `insert into deliveries (msg_id, endpoint_id, app_id, event_type, state, dispatched_at, attempt_count)
           values ${batch.map(() => `(?, ?, ?, 'bulk.event', ?, now(), 1)`).join(', ')}`,
          batch.flatMap((id) => [id, d.endpointId, appId, d.state]),
        );
      }
    }
    return ids;
  }

  async function task(id: string) {
    return (await stack.call('GET', `/api/v1/background-task/${id}`)).body;
  }
  async function ended(id: string, timeoutMs = 170_000) {
    let last: any = null;
    try {
      return await eventually(
        async () => ((last = await task(id)).status !== 'running' ? last : null),
        `task ${id} to end`,
        { timeoutMs, intervalMs: 500 },
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}; last seen ${JSON.stringify(last)}`);
    }
  }

  it('replays a few thousand deliveries across endpoints with counts matching the database', async () => {
    // 1000 messages × 2 endpoints: 2000 deliveries, modest for a 2-core machine shared with Temporal and PostgreSQL.
    const N = 1000;
    const appId = await seedApp(stack.services);
    const failedEp = await seedEndpoint(stack.services, appId, { url: receiver.url('/bulk-failed') });
    const newEp = await seedEndpoint(stack.services, appId, { url: receiver.url('/bulk-new') });
    const ids = await seedMessages(appId, N, [{ endpointId: failedEp.id, state: 'failed' }]);
    // N failed deliveries to one endpoint, N never sent to the other.
    const expected =
      (await count(`select count(*) as n from deliveries where app_id = ? and state = 'failed'`, [appId])) +
      (await count(
        `select count(*) as n from messages m join endpoints e on e.app_id = m.app_id
          where m.app_id = ? and not exists (select 1 from deliveries d where d.msg_id = m.id and d.endpoint_id = e.id)`,
        [appId],
      ));
    expect(expected).toBe(2 * N);

    const since = new Date(Date.now() - 120_000).toISOString();
    const res = await stack.call('POST', `/api/v1/app/${appId}/replay`, {
      since,
      status: 'all',
      rateLimit: 1000,
    });
    expect(res.status).toBe(202);
    const done = await ended(res.body.id, 330_000);
    expect(done).toMatchObject({
      status: 'finished',
      task: 'application.replay',
      data: { total: 2 * N, matched: 2 * N, started: 2 * N, skipped: 0 },
    });

    await eventually(
      () => distinct('/bulk-failed') === N && distinct('/bulk-new') === N,
      'every replayed delivery',
      {
        timeoutMs: 330_000,
        intervalMs: 500,
      },
    );
    expect(duplicates()).toEqual([]);
    expect(ids.every((m) => okCount(m, '/bulk-failed') === 1 && okCount(m, '/bulk-new') === 1)).toBe(true);
    // The never-sent ones have deliveries rows now.
    expect(await count('select count(*) as n from deliveries where endpoint_id = ?', [newEp.id])).toBe(N);
  }, 700_000);

  it('stops starting deliveries when cancelled half-way and reports how far it got', async () => {
    const appId = await seedApp(stack.services);
    const ep = await seedEndpoint(stack.services, appId, { url: receiver.url('/cancel') });
    await seedMessages(appId, 300, []);
    const since = new Date(Date.now() - 120_000).toISOString();
    const res = await stack.call('POST', `/api/v1/app/${appId}/replay`, {
      since,
      status: 'missing',
      rateLimit: 25,
    });
    const taskId = res.body.id;
    const handle = stack.services.temporal.workflow.getHandle(`replay-${taskId}`);
    const progress = await eventually(async () => {
      const p = await handle.query(progressQuery);
      return p.started >= 50 ? p : null;
    }, 'some progress');
    expect(progress.done).toBe(false);

    const cancel = await stack.call('POST', `/api/v1/background-task/${taskId}/cancel`);
    expect(cancel.status).toBe(202);
    const t = await ended(taskId);
    expect(t.status).toBe('cancelled');
    expect(t.data.total).toBe(300);
    expect(t.data.matched).toBeLessThan(300);
    expect(t.data.started + t.data.skipped).toBe(t.data.matched);
    expect(t.data.cursor.msgId).toMatch(/^msg_/);

    // The workflow has ended, so what it started is final: exactly `started` deliveries exist and arrive.
    await handle.result();
    expect(await count('select count(*) as n from deliveries where endpoint_id = ?', [ep.id])).toBe(
      t.data.started,
    );
    await eventually(() => distinct('/cancel') === t.data.started, 'the started deliveries');
    expect(duplicates()).toEqual([]);
  });

  it('records a cancellation from Temporal (Web UI) as cancelled', async () => {
    const appId = await seedApp(stack.services);
    await seedEndpoint(stack.services, appId, { url: receiver.url('/ui-cancel') });
    await seedMessages(appId, 200, []);
    const since = new Date(Date.now() - 120_000).toISOString();
    const taskId = (
      await stack.call('POST', `/api/v1/app/${appId}/replay`, { since, status: 'missing', rateLimit: 20 })
    ).body.id;
    const handle = stack.services.temporal.workflow.getHandle(`replay-${taskId}`);
    await eventually(async () => (await handle.query(progressQuery)).started >= 20, 'some progress');
    await handle.cancel();
    const t = await ended(taskId);
    expect(t.status).toBe('cancelled');
    expect(t.data.matched).toBeLessThan(200);
    expect(t.data.matched).toBeGreaterThanOrEqual(20);
  });

  it('resumes without duplicates after the worker is restarted mid-page', async () => {
    const appId = await seedApp(stack.services);
    await seedEndpoint(stack.services, appId, { url: receiver.url('/restart') });
    const ids = await seedMessages(appId, 200, []);
    const since = new Date(Date.now() - 120_000).toISOString();
    const taskId = (
      await stack.call('POST', `/api/v1/app/${appId}/replay`, { since, status: 'missing', rateLimit: 25 })
    ).body.id;
    const handle = stack.services.temporal.workflow.getHandle(`replay-${taskId}`);
    await eventually(async () => (await handle.query(progressQuery)).started >= 25, 'some progress');

    await stack.restartWorker();

    const t = await ended(taskId);
    expect(t).toMatchObject({ status: 'finished', data: { total: 200, matched: 200 } });
    expect(t.data.started + t.data.skipped).toBe(200);
    await eventually(() => distinct('/restart') === 200, 'every delivery after the restart', {
      timeoutMs: 120_000,
    });
    expect(ids.every((m) => okCount(m, '/restart') === 1)).toBe(true);
    expect(duplicates()).toEqual([]);
  });
});
