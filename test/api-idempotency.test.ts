import { randomUUID } from 'node:crypto';
import { startStack, type Stack } from './harness/stack';
import { seedApp } from './harness/seed';
import { eventually } from './harness/wait';
import { IdempotencyStore } from '../api/middleware/idempotency';
import { stringify } from '../src/domain/raw-json';

/**
 * `idempotency-key` on POST: the work runs once per (token, key, method, URI) for 12 h,
 * bound to the request's body: the same key with another body is refused.
 */
describe('idempotency keys', () => {
  let stack: Stack;
  let store: IdempotencyStore;
  const db = (sql: string, args: unknown[] = []) => stack.services.orm.em.getConnection().execute(sql, args);
  const messages = async (appId: string) =>
    Number((await db('select count(*) n from messages where app_id = ?', [appId]))[0].n);
  const records = async (key: string) =>
    (await db('select state, status_code from idempotency_records where key = ?', [key])) as Array<{
      state: string;
    }>;

  beforeAll(async () => {
    stack = await startStack({}, { worker: false });
    store = new IdempotencyStore(stack.services.orm);
  });
  afterAll(async () => {
    await stack?.close();
  });

  const send = (appId: string, key: string, payload: unknown = { n: 1 }, token?: string) =>
    stack.call('POST', `/api/v1/app/${appId}/msg`, { eventType: 'order.created', payload }, token, {
      'idempotency-key': key,
    });

  it('replays the same response for the same key and stores one message', async () => {
    const appId = await seedApp(stack.services, { webhooksEnabled: false });
    const key = randomUUID();
    const first = await send(appId, key);
    const second = await send(appId, key);
    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    expect(second.body).toEqual(first.body);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(await messages(appId)).toBe(1);
    // Another key, or no key, is another request.
    expect((await send(appId, randomUUID())).body.id).not.toBe(first.body.id);
    await stack.call('POST', `/api/v1/app/${appId}/msg`, { eventType: 'order.created', payload: {} });
    expect(await messages(appId)).toBe(3);
  });

  it('refuses the same key with another body (422 naming the header), and stores nothing', async () => {
    const appId = await seedApp(stack.services, { webhooksEnabled: false });
    const key = randomUUID();
    const first = await send(appId, key, { n: 1 });
    expect(first.status).toBe(202);
    const changed = await send(appId, key, { n: 2 });
    expect(changed.status).toBe(422);
    expect(changed.body.detail[0].loc).toEqual(['header', 'idempotency-key']);
    expect(changed.body.detail[0].msg).toMatch(/different request/);
    // Same JSON value, other bytes: another body too.
    const respaced = await stack.call(
      'POST',
      `/api/v1/app/${appId}/msg`,
      '{"eventType": "order.created", "payload": {"n": 1}}',
      undefined,
      { 'idempotency-key': key },
    );
    expect(respaced.status).toBe(422);
    expect(await messages(appId)).toBe(1);
    // The original request still replays.
    expect((await send(appId, key, { n: 1 })).body).toEqual(first.body);

    // Other idempotent routes (application create) bind the key the same way.
    const appKey = randomUUID();
    const a = await stack.call('POST', '/api/v1/app', { name: 'Bound' }, undefined, {
      'idempotency-key': appKey,
    });
    const b = await stack.call('POST', '/api/v1/app', { name: 'Other' }, undefined, {
      'idempotency-key': appKey,
    });
    expect(a.status).toBe(201);
    expect(b.status).toBe(422);
    expect(b.body.detail[0].loc).toEqual(['header', 'idempotency-key']);
  });

  it("commits the key's record with the message, and not without it", async () => {
    const appId = await seedApp(stack.services, { webhooksEnabled: false });
    const key = randomUUID();
    const body = { eventType: 'order.created', eventId: `evt-${key.slice(0, 8)}`, payload: { n: 1 } };
    const ok = await stack.call('POST', `/api/v1/app/${appId}/msg`, body, undefined, {
      'idempotency-key': key,
    });
    expect(ok.status).toBe(202);
    const rows = (await db(
      'select state, status_code, response_body from idempotency_records where fingerprint is not null and response_body like ?',
      [`%${ok.body.id}%`],
    )) as Array<{ state: string; status_code: number }>;
    expect(rows).toEqual([expect.objectContaining({ state: 'done', status_code: 202 })]);
    // The same eventId under a new key: the message is refused, so the key is not kept.
    const other = randomUUID();
    const dup = await stack.call('POST', `/api/v1/app/${appId}/msg`, body, undefined, {
      'idempotency-key': other,
    });
    expect(dup.status).toBe(409);
    const count = async () => Number((await db('select count(*) n from idempotency_records'))[0].n);
    const before = await count();
    const again = await stack.call(
      'POST',
      `/api/v1/app/${appId}/msg`,
      { ...body, eventId: `${body.eventId}-2` },
      undefined,
      {
        'idempotency-key': other,
      },
    );
    expect(again.status).toBe(202);
    expect(await count()).toBe(before + 1);
    expect(await messages(appId)).toBe(2);
  });

  it('has no record of the key visible before the message commits (one transaction)', async () => {
    const appId = await seedApp(stack.services, { webhooksEnabled: false });
    const key = randomUUID();
    const eventId = `held-${key.slice(0, 8)}`;
    const count = async () => Number((await db('select count(*) n from idempotency_records'))[0].n);
    const before = await count();
    // Another transaction holds the same eventId uncommitted: the ingest waits on it.
    const trx = await stack.services.orm.em.getConnection().getKnex().transaction();
    try {
      await trx.raw(
        `insert into messages (id, app_id, event_type, event_id, expires_at) values (?, ?, 'held', ?, now() + interval '1 day')`,
        [`msg_held${key.slice(0, 8)}`, appId, eventId],
      );
      const posting = stack.call(
        'POST',
        `/api/v1/app/${appId}/msg`,
        { eventType: 'order.created', eventId, payload: { n: 1 } },
        undefined,
        { 'idempotency-key': key },
      );
      await eventually(async () => {
        const waiting = await db(
          `select count(*) n from pg_stat_activity where wait_event_type = 'Lock' and query like '%idempotency_records%'`,
        );
        return Number(waiting[0].n) > 0;
      }, 'the ingest statement waiting on the held eventId');
      // While the message is not committed, neither is the key's record.
      expect(await count()).toBe(before);
      await trx.rollback();
      expect((await posting).status).toBe(202);
      expect(await count()).toBe(before + 1);
    } finally {
      if (!trx.isCompleted()) await trx.rollback();
    }
  });

  it('runs concurrent duplicates once: one row, the same answer for all', async () => {
    const appId = await seedApp(stack.services, { webhooksEnabled: false });
    const key = randomUUID();
    const answers = await Promise.all(Array.from({ length: 8 }, () => send(appId, key)));
    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(202));
    for (const a of answers) expect(a.body).toEqual(answers[0].body);
    expect(await messages(appId)).toBe(1);
  });

  it('keys by token and URI: the same key elsewhere is a different request', async () => {
    const a = await seedApp(stack.services, { webhooksEnabled: false });
    const b = await seedApp(stack.services, { webhooksEnabled: false });
    const key = randomUUID();
    const viaAdmin = await send(a, key);
    const viaAppToken = await send(a, key, { n: 1 }, await stack.services.tokens.issueAppToken(a));
    const otherApp = await send(b, key);
    expect(new Set([viaAdmin.body.id, viaAppToken.body.id, otherApp.body.id]).size).toBe(3);
    expect(await messages(a)).toBe(2);
  });

  it('works on application create too', async () => {
    const key = randomUUID();
    const uid = `idem-${key.slice(0, 8)}`;
    const first = await stack.call('POST', '/api/v1/app', { name: 'Once', uid }, undefined, {
      'idempotency-key': key,
    });
    const second = await stack.call('POST', '/api/v1/app', { name: 'Once', uid }, undefined, {
      'idempotency-key': key,
    });
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.body).toEqual(first.body);
    // Without the key, the same body is a real second attempt: 409.
    expect((await stack.call('POST', '/api/v1/app', { name: 'Once', uid })).status).toBe(409);
  });

  it('does not keep a refused request: a retry with the same key runs', async () => {
    const appId = await seedApp(stack.services, { webhooksEnabled: false });
    const key = randomUUID();
    const bad = await stack.call(
      'POST',
      `/api/v1/app/${appId}/msg`,
      { eventType: 'bad type!', payload: {} },
      undefined,
      { 'idempotency-key': key },
    );
    expect(bad.status).toBe(422);
    expect(
      Number((await db('select count(*) n from idempotency_records where state = ?', ['in_progress']))[0].n),
    ).toBe(0);
    const good = await send(appId, key);
    expect(good.status).toBe(202);
    expect(await messages(appId)).toBe(1);
  });

  it('refuses a malformed key header with a 422 and does nothing', async () => {
    const appId = await seedApp(stack.services, { webhooksEnabled: false });
    const res = await send(appId, 'k'.repeat(257));
    expect(res.status).toBe(422);
    expect(res.body.detail[0].loc).toEqual(['header', 'idempotency-key']);
    expect(await messages(appId)).toBe(0);
  });

  describe('the store', () => {
    it('forgets a 5xx and a thrown error so a retry runs the work', async () => {
      const key = `test-${randomUUID()}`;
      let runs = 0;
      const r1 = await store.run(key, async () => (runs++, { status: 503, body: { code: 'x' } }));
      expect(r1?.status).toBe(503);
      expect(await records(key)).toEqual([]);
      await expect(store.run(key, async () => (runs++, Promise.reject(new Error('boom'))))).rejects.toThrow(
        'boom',
      );
      expect(await records(key)).toEqual([]);
      const r3 = await store.run(key, async () => (runs++, { status: 201, body: { ok: true } }));
      const r4 = await store.run(key, async () => (runs++, { status: 201, body: { ok: false } }));
      expect(runs).toBe(3);
      expect({ ...r4, body: stringify(r4?.body) }).toEqual({
        ...r3,
        body: stringify(r3?.body),
        replayed: true,
        headers: undefined,
      });
      expect(await records(key)).toEqual([{ state: 'done', status_code: 201 }]);
    });

    it('makes a duplicate wait for the first to finish and answer the same', async () => {
      const key = `test-${randomUUID()}`;
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let runs = 0;
      const first = store.run(key, async () => {
        runs++;
        await gate;
        return { status: 202, body: { id: 'first' } };
      });
      // The first has claimed the key once its row is in_progress.
      for (let i = 0; i < 100 && (await records(key)).length === 0; i++)
        await new Promise((r) => setTimeout(r, 20));
      expect(await records(key)).toEqual([{ state: 'in_progress', status_code: null }]);
      const second = store.run(key, async () => (runs++, { status: 202, body: { id: 'second' } }));
      release();
      const [a, b] = await Promise.all([first, second]);
      expect(runs).toBe(1);
      expect(stringify(a?.body)).toBe('{"id":"first"}');
      expect(stringify(b?.body)).toBe('{"id":"first"}');
      expect(b?.replayed).toBe(true);
    });

    it('takes over an abandoned in_progress record and an expired finished one', async () => {
      const abandoned = `test-${randomUUID()}`;
      await db(
        `insert into idempotency_records (key, state, created_at, expires_at) values (?, 'in_progress', now() - interval '10 minutes', now() + interval '1 hour')`,
        [abandoned],
      );
      expect((await store.run(abandoned, async () => ({ status: 201, body: { fresh: 1 } })))?.replayed).toBe(
        false,
      );
      const expired = `test-${randomUUID()}`;
      await db(
        `insert into idempotency_records (key, state, status_code, response_body, created_at, expires_at)
         values (?, 'done', 201, '{"old":1}', now() - interval '13 hours', now() - interval '1 hour')`,
        [expired],
      );
      const r = await store.run(expired, async () => ({ status: 201, body: { fresh: 2 } }));
      expect(r).toMatchObject({ body: { fresh: 2 }, replayed: false });
      const kept = `test-${randomUUID()}`;
      await db(
        `insert into idempotency_records (key, state, status_code, response_body, created_at, expires_at)
         values (?, 'done', 201, '{"old":1}', now(), now() + interval '12 hours')`,
        [kept],
      );
      const replayed = await store.run(kept, async () => ({ status: 201, body: { fresh: 3 } }));
      expect(replayed).toMatchObject({ replayed: true });
      expect(stringify(replayed?.body)).toBe('{"old":1}');
    });
  });
});
