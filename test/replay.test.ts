import { startStack, type Stack } from './harness/stack';
import { Receiver } from './harness/receiver';
import { seedApp, seedEndpoint } from './harness/seed';
import { eventually } from './harness/wait';

/** Recover and replay-missing against the real servers; the background task API; window validation. */
describe('recover and replay-missing', () => {
  let stack: Stack;
  let receiver: Receiver;
  let down = false;
  /** Deliveries answered 200, by `${webhook-id} ${path}`. */
  const delivered = new Map<string, number>();

  const db = () => stack.services.orm.em.getConnection();
  const count = async (sql: string, args: unknown[]) => Number((await db().execute(sql, args))[0].n);
  const okCount = (msgId: string, path: string) => delivered.get(`${msgId} ${path}`) ?? 0;

  beforeAll(async () => {
    stack = await startStack({ HOOKFLOW_RETRY_SCHEDULE: '1' });
    receiver = await new Receiver().listen();
    receiver.behaviour = (r) => {
      if (down) return { status: 500 };
      delivered.set(`${r.id} ${r.path}`, (delivered.get(`${r.id} ${r.path}`) ?? 0) + 1);
      return { status: 200 };
    };
  });
  afterAll(async () => {
    await stack?.close();
    await receiver?.close();
  });

  async function send(appId: string, eventType = 'user.created'): Promise<string> {
    const res = await stack.call('POST', `/api/v1/app/${appId}/msg`, {
      eventType,
      payload: { at: Date.now() },
    });
    expect(res.status).toBe(202);
    return res.body.id;
  }

  async function finished(taskId: string) {
    return eventually(async () => {
      const r = await stack.call('GET', `/api/v1/background-task/${taskId}`);
      return r.body.status !== 'running' ? r.body : null;
    }, `task ${taskId} to end`);
  }

  it('recover delivers exactly the failed messages of an outage, once each', async () => {
    const appId = await seedApp(stack.services);
    const ep = await seedEndpoint(stack.services, appId, { url: receiver.url('/recover') });
    receiver.secrets.push(ep.secret);
    const since = new Date(Date.now() - 1000).toISOString();
    const before = [await send(appId), await send(appId)];
    await eventually(() => before.every((m) => okCount(m, '/recover') === 1), 'deliveries before the outage');

    down = true;
    const failed: string[] = [];
    for (let i = 0; i < 5; i++) failed.push(await send(appId));
    await eventually(
      async () =>
        (await count(`select count(*) as n from deliveries where endpoint_id = ? and state = 'failed'`, [
          ep.id,
        ])) === 5,
      'the outage deliveries to fail',
    );
    down = false;

    const res = await stack.call('POST', `/api/v1/app/${appId}/endpoint/${ep.id}/recover`, { since });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^qtask_/),
      status: 'running',
      task: 'endpoint.recover',
      updatedAt: expect.any(String),
    });
    const task = await finished(res.body.id);
    expect(task).toMatchObject({
      status: 'finished',
      task: 'endpoint.recover',
      data: { total: 5, matched: 5, started: 5, skipped: 0 },
    });

    await eventually(() => failed.every((m) => okCount(m, '/recover') === 1), 'the recovered deliveries');
    await eventually(
      async () =>
        (await count(`select count(*) as n from deliveries where endpoint_id = ? and state = 'success'`, [
          ep.id,
        ])) === 7,
      'every delivery to read success',
    );
    for (const m of [...before, ...failed]) expect(okCount(m, '/recover')).toBe(1);

    // Nothing is failed any more: a second recover matches nothing.
    const again = await stack.call('POST', `/api/v1/app/${appId}/endpoint/${ep.id}/recover`, { since });
    expect(await finished(again.body.id)).toMatchObject({
      status: 'finished',
      data: { total: 0, matched: 0, started: 0 },
    });
    for (const m of failed) expect(okCount(m, '/recover')).toBe(1);
  });

  it('replay-missing sends an endpoint created later exactly the messages its filters match', async () => {
    const appId = await seedApp(stack.services);
    const first = await seedEndpoint(stack.services, appId, { url: receiver.url('/first') });
    receiver.secrets.push(first.secret);
    const since = new Date(Date.now() - 1000).toISOString();
    const a = [await send(appId, 'a.happened'), await send(appId, 'a.happened')];
    const b = await send(appId, 'b.happened');
    await eventually(() => [...a, b].every((m) => okCount(m, '/first') === 1), 'first endpoint deliveries');

    const late = await seedEndpoint(stack.services, appId, {
      url: receiver.url('/late'),
      eventTypes: ['a.happened'],
    });
    receiver.secrets.push(late.secret);
    const res = await stack.call('POST', `/api/v1/app/${appId}/endpoint/${late.id}/replay-missing`, {
      since,
    });
    expect(res.status).toBe(202);
    expect(res.body.task).toBe('endpoint.replay');
    expect(await finished(res.body.id)).toMatchObject({
      status: 'finished',
      data: { total: 2, matched: 2, started: 2, skipped: 0 },
    });
    await eventually(() => a.every((m) => okCount(m, '/late') === 1), 'the missed deliveries');
    expect(okCount(b, '/late')).toBe(0);
    for (const m of [...a, b]) expect(okCount(m, '/first')).toBe(1);

    // Its deliveries rows exist now: nothing is missing any more.
    const again = await stack.call('POST', `/api/v1/app/${appId}/endpoint/${late.id}/replay-missing`, {
      since,
    });
    expect(await finished(again.body.id)).toMatchObject({ status: 'finished', data: { matched: 0 } });
  });

  it('replay-missing sends what was stored while the application was switched off', async () => {
    const appId = await seedApp(stack.services, { webhooksEnabled: false });
    const ep = await seedEndpoint(stack.services, appId, { url: receiver.url('/off') });
    receiver.secrets.push(ep.secret);
    const since = new Date(Date.now() - 1000).toISOString();
    const stored = [await send(appId), await send(appId), await send(appId)];
    expect(await count('select count(*) as n from deliveries where app_id = ?', [appId])).toBe(0);

    await db().execute('update applications set webhooks_enabled = true where id = ?', [appId]);
    const live = await send(appId);
    await eventually(() => okCount(live, '/off') === 1, 'a delivery once switched on');

    const res = await stack.call('POST', `/api/v1/app/${appId}/endpoint/${ep.id}/replay-missing`, { since });
    expect(await finished(res.body.id)).toMatchObject({
      status: 'finished',
      data: { matched: 3, started: 3 },
    });
    await eventually(() => stored.every((m) => okCount(m, '/off') === 1), 'the stored messages');
    expect(okCount(live, '/off')).toBe(1);
  });

  it('validates windows with a 422 naming the field', async () => {
    const appId = await seedApp(stack.services);
    const ep = await seedEndpoint(stack.services, appId, { url: receiver.url('/v') });
    const path = `/api/v1/app/${appId}/endpoint/${ep.id}/recover`;
    const now = Date.now();
    const iso = (ms: number) => new Date(ms).toISOString();
    const cases: Array<[unknown, string[]]> = [
      [{}, ['body', 'since']],
      [{ since: 'yesterday' }, ['body', 'since']],
      [{ since: iso(now - 1000), until: iso(now - 5000) }, ['body', 'until']],
      [{ since: iso(now + 3600_000) }, ['body', 'since']],
      [{ since: iso(now - 3600_000), until: iso(now + 3600_000) }, ['body', 'until']],
      [{ since: iso(now - 91 * 86_400_000) }, ['body', 'since']],
    ];
    for (const [body, loc] of cases) {
      const res = await stack.call('POST', path, body);
      expect(res.status).toBe(422);
      expect(res.body.detail[0].loc).toEqual(loc);
    }
    const bulk = await stack.call('POST', `/api/v1/app/${appId}/replay`, {
      since: iso(now - 1000),
      status: 'sometimes',
    });
    expect(bulk.status).toBe(422);
    expect(bulk.body.detail[0].loc).toEqual(['body', 'status']);
    const unknownEp = await stack.call('POST', `/api/v1/app/${appId}/replay`, {
      since: iso(now - 1000),
      endpoints: [ep.id, 'ep_nope'],
    });
    expect(unknownEp.status).toBe(422);
    expect(unknownEp.body.detail[0].loc).toEqual(['body', 'endpoints', 1]);
    expect(await count('select count(*) as n from background_tasks where app_id = ?', [appId])).toBe(0);
  });

  it('refuses a disabled endpoint, and hides other applications', async () => {
    const appId = await seedApp(stack.services);
    const off = await seedEndpoint(stack.services, appId, { url: receiver.url('/d'), disabled: true });
    const since = new Date(Date.now() - 1000).toISOString();
    const res = await stack.call('POST', `/api/v1/app/${appId}/endpoint/${off.id}/recover`, { since });
    expect(res.status).toBe(409);
    expect(res.body.detail).toMatch(/disabled/);
    const other = await seedApp(stack.services);
    expect(
      (await stack.call('POST', `/api/v1/app/${other}/endpoint/${off.id}/replay-missing`, { since })).status,
    ).toBe(404);
  });

  it('shows background tasks to their application only, and lists them with filters', async () => {
    const mine = await seedApp(stack.services);
    const theirs = await seedApp(stack.services);
    const ep = await seedEndpoint(stack.services, mine, { url: receiver.url('/t') });
    const since = new Date(Date.now() - 1000).toISOString();
    const a = (await stack.call('POST', `/api/v1/app/${mine}/endpoint/${ep.id}/recover`, { since })).body.id;
    const b = (await stack.call('POST', `/api/v1/app/${mine}/replay`, { since, status: 'all' })).body.id;
    await finished(a);
    expect(await finished(b)).toMatchObject({ task: 'application.replay', status: 'finished' });

    const myToken = await stack.services.tokens.issueAppToken(mine);
    const theirToken = await stack.services.tokens.issueAppToken(theirs);
    expect((await stack.call('GET', `/api/v1/background-task/${a}`, undefined, myToken)).status).toBe(200);
    expect((await stack.call('GET', `/api/v1/background-task/${a}`, undefined, theirToken)).status).toBe(404);
    expect(
      (await stack.call('POST', `/api/v1/background-task/${a}/cancel`, undefined, theirToken)).status,
    ).toBe(404);
    // Svix's kinds only, unless a filter of ours asks for Hookflow's (a bulk replay is one).
    const listed = await stack.call('GET', '/api/v1/background-task', undefined, myToken);
    expect(listed.body.data.map((t: any) => t.id)).toEqual([a]);
    const bulk = await stack.call(
      'GET',
      '/api/v1/background-task?task=application.replay',
      undefined,
      myToken,
    );
    expect(bulk.body.data.map((t: any) => t.id)).toEqual([b]);
    expect((await stack.call('GET', '/api/v1/background-task', undefined, theirToken)).body.data).toEqual([]);
    const recovers = await stack.call(
      'GET',
      '/api/v1/background-task?task=endpoint.recover',
      undefined,
      myToken,
    );
    expect(recovers.body.data.map((t: any) => t.id)).toEqual([a]);
    expect(
      (await stack.call('GET', '/api/v1/background-task?status=running', undefined, myToken)).body.data,
    ).toEqual([]);
    // A finished task cannot be cancelled.
    expect((await stack.call('POST', `/api/v1/background-task/${a}/cancel`)).status).toBe(409);
  });
});
