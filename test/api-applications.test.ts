import { startStack, type Stack } from './harness/stack';
import { seedApp, seedEndpoint } from './harness/seed';
import { eventually } from './harness/wait';

/** /api/v1/app: Svix's application routes, their access rules and their refusals. */
describe('applications API', () => {
  let stack: Stack;
  const db = (sql: string, args: unknown[] = []) => stack.services.orm.em.getConnection().execute(sql, args);
  const count = async (sql: string, args: unknown[] = []) => Number((await db(sql, args))[0].n);
  const uid = (p: string) => `${p}-${Math.random().toString(36).slice(2, 10)}`;

  beforeAll(async () => {
    stack = await startStack({}, { worker: false });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('creates, gets by id and uid, and returns both rate names', async () => {
    const u = uid('acme');
    const res = await stack.call('POST', '/api/v1/app', {
      name: 'Acme',
      uid: u,
      throttleRate: 10,
      metadata: { plan: 'pro' },
    });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^app_/),
      uid: u,
      name: 'Acme',
      rateLimit: 10,
      throttleRate: 10,
      metadata: { plan: 'pro' },
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
      webhooksEnabled: true,
      retentionDays: null,
      maxInFlight: null,
    });
    expect((await stack.call('GET', `/api/v1/app/${res.body.id}`)).body).toEqual(res.body);
    expect((await stack.call('GET', `/api/v1/app/${u}`)).body).toEqual(res.body);
    const row = (await db('select * from applications where id = ?', [res.body.id]))[0];
    expect(row).toMatchObject({ uid: u, name: 'Acme', rate_limit: 10, metadata: { plan: 'pro' } });
  });

  it('accepts the old name rateLimit', async () => {
    const res = await stack.call('POST', '/api/v1/app', { name: 'Old SDK', rateLimit: 7 });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ rateLimit: 7, throttleRate: 7, uid: null });
  });

  it('refuses a taken uid with 409, and get_if_exists returns the existing one with 200', async () => {
    const u = uid('dup');
    const first = await stack.call('POST', '/api/v1/app', { name: 'First', uid: u });
    expect(first.status).toBe(201);
    const again = await stack.call('POST', '/api/v1/app', { name: 'Second', uid: u });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('conflict');
    const existing = await stack.call('POST', '/api/v1/app?get_if_exists=true', { name: 'Second', uid: u });
    expect(existing.status).toBe(200);
    expect(existing.body).toEqual(first.body);
    const fresh = await stack.call('POST', '/api/v1/app?get_if_exists=true', {
      name: 'New',
      uid: uid('fresh'),
    });
    expect(fresh.status).toBe(201);
    expect(await count('select count(*) n from applications where uid = ?', [u])).toBe(1);
  });

  it('lists oldest first with keyset pages in both directions', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await stack.call('POST', '/api/v1/app', { name: `page ${i}` })).body.id);
    const all: string[] = [];
    let iterator: string | null = null;
    let done = false;
    while (!done) {
      const res: { status: number; body: any } = await stack.call(
        'GET',
        `/api/v1/app?limit=2${iterator ? `&iterator=${iterator}` : ''}`,
      );
      expect(res.status).toBe(200);
      expect(res.body.data.length).toBeLessThanOrEqual(2);
      all.push(...res.body.data.map((a: { id: string }) => a.id));
      ({ iterator, done } = res.body);
    }
    expect(all).toEqual([...all].sort());
    expect(all.filter((id) => ids.includes(id))).toEqual(ids);
    const desc = await stack.call('GET', '/api/v1/app?order=descending&limit=3');
    const d = desc.body.data.map((a: { id: string }) => a.id);
    expect(d).toEqual([...d].sort().reverse());
    // Walking back from the 4th created gives the three before it.
    const back = await stack.call('GET', `/api/v1/app?limit=3&iterator=-${ids[3]}`);
    expect(back.body.data.map((a: { id: string }) => a.id)).toEqual(ids.slice(0, 3));
  });

  it('lists only apps with endpoints when asked', async () => {
    const withEp = await seedApp(stack.services);
    await seedEndpoint(stack.services, withEp, { url: 'http://127.0.0.1:9/x' });
    const res = await stack.call('GET', '/api/v1/app?limit=250&exclude_apps_with_no_endpoints=true');
    const ids = res.body.data.map((a: { id: string }) => a.id);
    expect(ids).toContain(withEp);
    for (const id of ids)
      expect(await count('select count(*) n from endpoints where app_id = ?', [id])).toBeGreaterThan(0);
  });

  it('PUT creates when missing (201, path as uid) and replaces when present (200)', async () => {
    const u = uid('put');
    const created = await stack.call('PUT', `/api/v1/app/${u}`, { name: 'Put one' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ uid: u, name: 'Put one' });
    const replaced = await stack.call('PUT', `/api/v1/app/${created.body.id}`, {
      name: 'Put two',
      metadata: { a: 'b' },
      throttleRate: 3,
    });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({
      id: created.body.id,
      uid: u,
      name: 'Put two',
      metadata: { a: 'b' },
      throttleRate: 3,
    });
    const again = await stack.call('PUT', `/api/v1/app/${u}`, { name: 'Put three' });
    expect(again.body).toMatchObject({
      id: created.body.id,
      name: 'Put three',
      metadata: {},
      throttleRate: null,
    });
    expect(await count('select count(*) n from applications where uid = ?', [u])).toBe(1);
  });

  it('PATCH changes only the given fields; webhooksEnabled can be switched off and on', async () => {
    const app = (
      await stack.call('POST', '/api/v1/app', { name: 'Patch me', metadata: { k: 'v' }, throttleRate: 5 })
    ).body;
    const off = await stack.call('PATCH', `/api/v1/app/${app.id}`, {
      webhooksEnabled: false,
      retentionDays: 30,
    });
    expect(off.status).toBe(200);
    expect(off.body).toMatchObject({
      name: 'Patch me',
      metadata: { k: 'v' },
      throttleRate: 5,
      webhooksEnabled: false,
      retentionDays: 30,
    });
    const row = (
      await db('select webhooks_enabled, retention_days from applications where id = ?', [app.id])
    )[0];
    expect(row).toEqual({ webhooks_enabled: false, retention_days: 30 });
    const on = await stack.call('PATCH', `/api/v1/app/${app.id}`, {
      webhooksEnabled: true,
      throttleRate: null,
      uid: 'patched-' + app.id.slice(4).toLowerCase(),
    });
    expect(on.body).toMatchObject({
      webhooksEnabled: true,
      throttleRate: null,
      rateLimit: null,
      uid: 'patched-' + app.id.slice(4).toLowerCase(),
    });
  });

  it('keeps maxInFlight (Hookflow) through a Svix-shaped PUT; PATCH sets and clears it; bad values are 422', async () => {
    const app = (await stack.call('POST', '/api/v1/app', { name: 'Limited', maxInFlight: 5 })).body;
    expect(app.maxInFlight).toBe(5);
    const put = await stack.call('PUT', `/api/v1/app/${app.id}`, { name: 'Limited, renamed' });
    expect(put.body).toMatchObject({ name: 'Limited, renamed', maxInFlight: 5 });
    expect((await stack.call('PATCH', `/api/v1/app/${app.id}`, { maxInFlight: 12 })).body.maxInFlight).toBe(
      12,
    );
    expect((await db('select max_in_flight from applications where id = ?', [app.id]))[0]).toEqual({
      max_in_flight: 12,
    });
    expect((await stack.call('PATCH', `/api/v1/app/${app.id}`, { maxInFlight: null })).body.maxInFlight).toBe(
      null,
    );
    for (const bad of [0, 10_001, 1.5, '5']) {
      const res = await stack.call('PATCH', `/api/v1/app/${app.id}`, { maxInFlight: bad });
      expect(res.status).toBe(422);
      expect(res.body.detail[0].loc).toEqual(['body', 'maxInFlight']);
    }
  });

  it('PATCH to a taken uid is 409 and changes nothing', async () => {
    const taken = uid('taken');
    await stack.call('POST', '/api/v1/app', { name: 'Owner', uid: taken });
    const other = (await stack.call('POST', '/api/v1/app', { name: 'Other' })).body;
    const res = await stack.call('PATCH', `/api/v1/app/${other.id}`, { uid: taken, name: 'Renamed' });
    expect(res.status).toBe(409);
    expect((await db('select name, uid from applications where id = ?', [other.id]))[0]).toEqual({
      name: 'Other',
      uid: null,
    });
  });

  it('DELETE removes the application with its endpoints, messages, deliveries and attempts', async () => {
    const appId = await seedApp(stack.services, { webhooksEnabled: false });
    const ep = await seedEndpoint(stack.services, appId, { url: 'http://127.0.0.1:9/x' });
    const msg = await stack.call('POST', `/api/v1/app/${appId}/msg`, { eventType: 'a.b', payload: {} });
    expect(msg.status).toBe(202);
    await db(
      `insert into attempts (id, msg_id, endpoint_id, app_id, url, status, response_status_code, response_duration_ms, trigger_type, attempt_number, timestamp)
       values (?, ?, ?, ?, 'http://x', 2, 500, 1, 0, 1, now())`,
      [`atmpt_${appId.slice(4)}`, msg.body.id, ep.id, appId],
    );
    const res = await stack.call('DELETE', `/api/v1/app/${appId}`);
    expect(res.status).toBe(204);
    // Hidden at once; the rows go in the background (test/deletion.test.ts has the details).
    expect((await stack.call('GET', `/api/v1/app/${appId}`)).status).toBe(404);
    // The DeleteResources workflow needs a worker, which this file otherwise does without.
    await stack.restartWorker();
    await eventually(async () => {
      const tasks = await stack.call('GET', '/api/v1/background-task?task=application.delete&limit=250');
      return tasks.body.data.some(
        (t: { status: string; data: { appId?: string } }) =>
          t.data.appId === appId && t.status === 'finished',
      );
    }, 'the application.delete task');
    for (const table of [
      'applications where id',
      'endpoints where app_id',
      'messages where app_id',
      'deliveries where app_id',
      'attempts where app_id',
    ])
      expect(await count(`select count(*) n from ${table} = ?`, [appId])).toBe(0);
    expect((await stack.call('GET', `/api/v1/app/${appId}`)).status).toBe(404);
    expect((await stack.call('DELETE', `/api/v1/app/${appId}`)).status).toBe(404);
  });

  describe('access', () => {
    it('answers 401 without a token or with a bad one', async () => {
      for (const token of [null, 'wrong', 'a.b.c']) {
        const res = await stack.call('GET', '/api/v1/app', undefined, token);
        expect(res.status).toBe(401);
        expect(res.body.code).toBe('authentication_failed');
      }
      const before = await count('select count(*) n from applications');
      expect((await stack.call('POST', '/api/v1/app', { name: 'x' }, null)).status).toBe(401);
      expect(await count('select count(*) n from applications')).toBe(before);
    });

    it('lets an app token read its own application only, and nothing else', async () => {
      const mine = (await stack.call('POST', '/api/v1/app', { name: 'Mine', uid: uid('mine') })).body;
      const theirs = (await stack.call('POST', '/api/v1/app', { name: 'Theirs', uid: uid('theirs') })).body;
      const token = await stack.services.tokens.issueAppToken(mine.id);
      expect((await stack.call('GET', `/api/v1/app/${mine.id}`, undefined, token)).body.id).toBe(mine.id);
      expect((await stack.call('GET', `/api/v1/app/${mine.uid}`, undefined, token)).body.id).toBe(mine.id);
      // Another tenant's application does not exist for this token: 404, by id or uid.
      expect((await stack.call('GET', `/api/v1/app/${theirs.id}`, undefined, token)).status).toBe(404);
      expect((await stack.call('GET', `/api/v1/app/${theirs.uid}`, undefined, token)).status).toBe(404);
      // Admin routes: 403.
      const before = await count('select count(*) n from applications');
      expect((await stack.call('GET', '/api/v1/app', undefined, token)).status).toBe(403);
      const create = await stack.call('POST', '/api/v1/app', { name: 'sneaky' }, token);
      expect(create.status).toBe(403);
      expect(create.body.code).toBe('insufficient_access');
      expect(
        (
          await stack.call(
            'PATCH',
            `/api/v1/app/${mine.id}`,
            { name: 'renamed', webhooksEnabled: false },
            token,
          )
        ).status,
      ).toBe(403);
      expect((await stack.call('PUT', `/api/v1/app/${mine.id}`, { name: 'renamed' }, token)).status).toBe(
        403,
      );
      expect((await stack.call('DELETE', `/api/v1/app/${mine.id}`, undefined, token)).status).toBe(403);
      expect((await stack.call('DELETE', `/api/v1/app/${theirs.id}`, undefined, token)).status).toBe(403);
      expect(await count('select count(*) n from applications')).toBe(before);
      expect(
        (await db('select name, webhooks_enabled from applications where id = ?', [mine.id]))[0],
      ).toEqual({ name: 'Mine', webhooks_enabled: true });
    });
  });

  describe('refusals write nothing', () => {
    const cases: Array<[string, unknown, Array<string | number>]> = [
      ['no name', {}, ['body', 'name']],
      ['name of the wrong type', { name: 5 }, ['body', 'name']],
      ['empty name', { name: '' }, ['body', 'name']],
      ['too long name', { name: 'n'.repeat(257) }, ['body', 'name']],
      ['unknown field', { name: 'x', colour: 'red' }, ['body']],
      ['uid with a space', { name: 'x', uid: 'a b' }, ['body', 'uid']],
      ['uid like an id', { name: 'x', uid: 'app_123' }, ['body', 'uid']],
      ['too long uid', { name: 'x', uid: 'u'.repeat(257) }, ['body', 'uid']],
      ['rate of the wrong type', { name: 'x', throttleRate: '5' }, ['body', 'throttleRate']],
      ['rate out of range', { name: 'x', throttleRate: 0 }, ['body', 'throttleRate']],
      ['metadata value not a string', { name: 'x', metadata: { a: 1 } }, ['body', 'metadata', 'a']],
      ['body an array', [], ['body']],
    ];
    it.each(cases)('POST /app with %s is a 422 naming the field', async (_what, body, loc) => {
      const before = await count('select count(*) n from applications');
      const res = await stack.call('POST', '/api/v1/app', body);
      expect(res.status).toBe(422);
      expect(res.body.detail[0].loc.slice(0, loc.length)).toEqual(loc);
      expect(res.body.detail[0]).toEqual({
        loc: expect.any(Array),
        msg: expect.any(String),
        type: expect.any(String),
      });
      expect(await count('select count(*) n from applications')).toBe(before);
    });

    it('malformed JSON is a 400', async () => {
      const before = await count('select count(*) n from applications');
      const res = await stack.call('POST', '/api/v1/app', '{"name": "x",', undefined, {
        'content-type': 'application/json',
      });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('bad_request');
      expect(await count('select count(*) n from applications')).toBe(before);
    });

    it('PATCH and PUT refuse bad bodies and change nothing', async () => {
      const app = (await stack.call('POST', '/api/v1/app', { name: 'Stable' })).body;
      for (const [method, body] of [
        ['PATCH', { name: 7 }],
        ['PATCH', { webhooksEnabled: 'no' }],
        ['PATCH', { retentionDays: 0 }],
        ['PATCH', { nope: true }],
        ['PUT', { uid: 'x' }],
      ] as const) {
        const res = await stack.call(method, `/api/v1/app/${app.id}`, body);
        expect(res.status).toBe(422);
      }
      expect((await db('select name, updated_at from applications where id = ?', [app.id]))[0].name).toBe(
        'Stable',
      );
      expect((await stack.call('GET', `/api/v1/app/${app.id}`)).body).toEqual(app);
    });

    it('bad ids are 404 (or 422 when not even an id)', async () => {
      expect((await stack.call('GET', '/api/v1/app/app_doesnotexist')).status).toBe(404);
      expect((await stack.call('GET', '/api/v1/app/no-such-uid')).status).toBe(404);
      expect((await stack.call('PATCH', '/api/v1/app/app_doesnotexist', { name: 'x' })).status).toBe(404);
      expect((await stack.call('GET', `/api/v1/app/${'x'.repeat(300)}`)).status).toBe(422);
    });

    it.each(['limit=0', 'limit=251', 'limit=abc', 'iterator=junk!', 'iterator=ep_123', 'order=sideways'])(
      'bad pagination %s is a 422',
      async (q) => {
        const res = await stack.call('GET', `/api/v1/app?${q}`);
        expect(res.status).toBe(422);
        expect(res.body.detail[0].loc[0]).toBe('query');
      },
    );
  });
});
