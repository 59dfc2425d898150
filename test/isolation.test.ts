import { randomBytes } from 'node:crypto';
import { startStack, type Stack } from './harness/stack';
import { Receiver } from './harness/receiver';
import { eventually } from './harness/wait';
import { Tokens } from '../src/domain/tokens';

type Operation = {
  method: string;
  path: string;
  operationId: string;
  params: Array<{ name: string; in: string }>;
};

interface Tenant {
  id: string;
  uid: string;
  endpoint: string;
  msg: string;
  attempt: string;
  task: string;
}

const since = () => new Date(Date.now() - 3600_000).toISOString();

/** A valid body for each operation that takes one, so that a refusal is about the tenant, not the input. */
function validBody(operationId: string, receiverUrl: string): unknown {
  const bodies: Record<string, unknown> = {
    'v1.application.create': { name: 'intruder' },
    'v1.application.update': { name: 'taken over' },
    'v1.application.patch': { name: 'taken over' },
    'v1.event-type.create': { name: `iso.${randomBytes(3).toString('hex')}`, description: 'x' },
    'v1.event-type.update': { description: 'changed' },
    'v1.event-type.patch': { description: 'changed' },
    'v1.endpoint.create': { url: receiverUrl },
    'v1.endpoint.update': { url: receiverUrl },
    'v1.endpoint.patch': { description: 'taken over' },
    'v1.endpoint.rotate-secret': {},
    'v1.endpoint.update-headers': { headers: { 'x-intruder': '1' } },
    'v1.endpoint.patch-headers': { headers: { 'x-intruder': '1' } },
    'v1.endpoint.send-example': { eventType: 'svix.ping' },
    'v1.message.create': { eventType: 'iso.test', payload: { intruder: true } },
    'v1.authentication.app-portal-access': {},
    'v1.endpoint.recover': { since: since() },
    'v1.endpoint.replay-missing': { since: since() },
    'v1.application.replay': { since: since(), status: 'all' },
  };
  return bodies[operationId];
}

/**
 * Tenant isolation: an app token for application A, aimed at every route of the OpenAPI
 * document with B's ids substituted, is refused (404, or 403 on admin-only routes), never
 * shows B's data and changes none of it. Tokens that are not current are 401.
 */
describe('tenant isolation', () => {
  let stack: Stack;
  let receiver: Receiver;
  let ops: Operation[];
  let a: Tenant;
  let b: Tenant;
  let tokenA: string;
  const db = (sql: string, args: unknown[] = []) => stack.services.orm.em.getConnection().execute(sql, args);

  /** Everything of one application, as one fingerprint per table. */
  async function fingerprint(appId: string): Promise<Record<string, string>> {
    const tables: Record<string, string> = {
      applications: 'id',
      endpoints: 'app_id',
      messages: 'app_id',
      deliveries: 'app_id',
      attempts: 'app_id',
      background_tasks: 'app_id',
    };
    const out: Record<string, string> = {};
    for (const [table, column] of Object.entries(tables)) {
      const rows = await db(
        `select count(*)::int n, md5(coalesce(string_agg(t::text, '|' order by t::text), '')) h from ${table} t where ${column} = ?`,
        [appId],
      );
      out[table] = `${rows[0].n}:${rows[0].h}`;
    }
    return out;
  }

  async function tenant(label: string): Promise<Tenant> {
    const uid = `iso-${label}-${randomBytes(4).toString('hex')}`;
    const app = await stack.call('POST', '/api/v1/app', { name: `tenant ${label}`, uid });
    expect(app.status).toBe(201);
    const ep = await stack.call('POST', `/api/v1/app/${app.body.id}/endpoint`, {
      url: receiver.url(`/${label}`),
      uid: `ep-${label}`,
    });
    expect(ep.status).toBe(201);
    const secret = await stack.call('GET', `/api/v1/app/${app.body.id}/endpoint/${ep.body.id}/secret`);
    receiver.secrets.push(secret.body.key);
    const msg = await stack.call('POST', `/api/v1/app/${app.body.id}/msg`, {
      eventType: 'iso.test',
      payload: { tenant: label },
    });
    expect(msg.status).toBe(202);
    const attempt = await eventually(async () => {
      const rows = await db(
        `select a.id from attempts a join deliveries d on d.msg_id = a.msg_id and d.endpoint_id = a.endpoint_id
         where a.msg_id = ? and d.state = 'success'`,
        [msg.body.id],
      );
      return rows[0]?.id as string | undefined;
    }, `the delivery of ${label}'s message`);
    const task = await stack.call('POST', `/api/v1/app/${app.body.id}/replay`, {
      since: since(),
      status: 'all',
    });
    expect(task.status).toBe(202);
    await eventually(
      async () =>
        (await db('select status from background_tasks where id = ?', [task.body.id]))[0]?.status !==
        'running',
      `${label}'s replay task to end`,
    );
    await eventually(
      async () =>
        (
          await db(`select count(*)::int n from deliveries where app_id = ? and state <> 'success'`, [
            app.body.id,
          ])
        )[0].n === 0,
      `${label}'s deliveries to settle`,
    );
    return { id: app.body.id, uid, endpoint: ep.body.id, msg: msg.body.id, attempt, task: task.body.id };
  }

  beforeAll(async () => {
    stack = await startStack();
    receiver = await new Receiver().listen();
    const doc = (await stack.call('GET', '/api/v1/openapi.json', undefined, null)).body;
    ops = Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, byMethod]) =>
      Object.entries(byMethod).map(([method, op]) => ({
        method: method.toUpperCase(),
        path,
        operationId: op.operationId,
        params: op.parameters ?? [],
      })),
    );
    const et = await stack.call('POST', '/api/v1/event-type', { name: 'iso.test', description: 'isolation' });
    expect([201, 409]).toContain(et.status);
    a = await tenant('a');
    b = await tenant('b');
    const access = await stack.call('POST', `/api/v1/auth/app-portal-access/${a.id}`, {});
    expect(access.status).toBe(200);
    tokenA = access.body.token;
  });
  afterAll(async () => {
    await stack?.close();
    await receiver?.close();
  });

  const bIds = () => [b.id, b.uid, b.endpoint, b.msg, b.attempt, b.task];
  const fill = (path: string, ids: Record<string, string>) =>
    path.replace(/\{([A-Za-z_]+)\}/g, (_m, name: string) => encodeURIComponent(ids[name] ?? 'iso.test'));
  const own = (t: Tenant): Record<string, string> => ({
    app: t.id,
    endpoint: t.endpoint,
    msg: t.msg,
    attempt: t.attempt,
    task: t.task,
    event_type_name: 'iso.test',
  });

  /** The ways an operation can name B: all of B, B's app by uid, and each of B's ids under A's app. */
  function variants(op: Operation): Array<Record<string, string>> {
    const names = op.params.filter((p) => p.in === 'path').map((p) => p.name);
    if (!names.some((n) => ['app', 'endpoint', 'msg', 'attempt', 'task'].includes(n))) return [];
    const out = [own(b)];
    if (names.includes('app')) out.push({ ...own(b), app: b.uid });
    for (const n of names.filter((n) => n !== 'app' && n in own(b)))
      if (names.includes('app')) out.push({ ...own(a), [n]: own(b)[n] });
    return out;
  }

  it('refuses every route that names B (404, or 403 where admin-only) and changes nothing of B', async () => {
    const before = await fingerprint(b.id);
    const receivedBefore = receiver.received.filter((r) => r.path?.startsWith('/b')).length;
    const checked: string[] = [];
    for (const op of ops) {
      if (op.path.startsWith('/api/v1/health')) continue;
      for (const ids of variants(op)) {
        const query = op.params.some((p) => p.name === 'endpoint_id') ? `?endpoint_id=${b.endpoint}` : '';
        const url = fill(op.path, ids) + query;
        const res = await stack.call(
          op.method,
          url,
          validBody(op.operationId, receiver.url('/intruder')),
          tokenA,
        );
        const seen = JSON.stringify(res.body ?? '');
        expect(`${op.method} ${url} ${res.status}`).toMatch(/ (403|404)$/);
        expect(['not_found', 'insufficient_access']).toContain(res.body?.code);
        for (const id of bIds()) expect(seen).not.toContain(id);
        checked.push(op.operationId);
      }
    }
    // Every operation that takes one of these ids was tried.
    const expected = ops.filter((op) => variants(op).length > 0).map((op) => op.operationId);
    expect(new Set(checked)).toEqual(new Set(expected));
    expect(expected.length).toBeGreaterThan(25);

    expect(await fingerprint(b.id)).toEqual(before);
    expect(receiver.received.filter((r) => r.path?.startsWith('/b')).length).toBe(receivedBefore);
  });

  it('answers every read of A to A with 2xx and never a trace of B, lists included', async () => {
    let reads = 0;
    for (const op of ops.filter((o) => o.method === 'GET' && !o.path.startsWith('/api/v1/health'))) {
      const query = op.params.some((p) => p.name === 'endpoint_id') ? `?endpoint_id=${a.endpoint}` : '';
      const url = fill(op.path, own(a)) + query;
      const res = await stack.call('GET', url, undefined, tokenA);
      // GET /app lists applications: admin-only in Hookflow as in Svix.
      expect(`${url} ${res.status}`).toMatch(/ (200|403)$/);
      const seen = JSON.stringify(res.body ?? '');
      for (const id of bIds())
        expect({ url, leaked: seen.includes(id) ? id : null }).toEqual({ url, leaked: null });
      if (res.status === 200) reads++;
      // The same list of B (as the admin) does hold B's items: the check above is not vacuous.
      if (res.status === 200 && Array.isArray(res.body?.data) && op.path.includes('{app}')) {
        const adminView = await stack.call('GET', fill(op.path, own(b)));
        expect(adminView.body.data.length).toBeGreaterThan(0);
        expect(bIds().some((id) => JSON.stringify(adminView.body).includes(id))).toBe(true);
      }
    }
    expect(reads).toBeGreaterThan(10);
    // And the lists that are not under /app/{app}: background tasks show only A's (bulk
    // replays, a kind of Hookflow's, are listed when the filter names it).
    const bulk = '/api/v1/background-task?task=application.replay&limit=250';
    const tasks = await stack.call('GET', bulk, undefined, tokenA);
    expect(tasks.status).toBe(200);
    expect(tasks.body.data.map((t: { id: string }) => t.id)).toContain(a.task);
    const adminTasks = await stack.call('GET', bulk);
    expect(adminTasks.body.data.map((t: { id: string }) => t.id)).toContain(b.task);
  });

  it("cannot reach B's endpoints or messages through A's filters", async () => {
    const before = await fingerprint(b.id);
    const filtered = await stack.call(
      'GET',
      `/api/v1/app/${a.id}/attempt/msg/${a.msg}?endpoint_id=${b.endpoint}`,
      undefined,
      tokenA,
    );
    if (filtered.status === 200) expect(filtered.body.data).toEqual([]);
    else expect(filtered.status).toBe(404);
    const receivedBefore = receiver.received.filter((r) => r.path?.startsWith('/b')).length;
    const res = await stack.call(
      'POST',
      `/api/v1/app/${a.id}/replay`,
      { since: since(), status: 'all', endpoints: [b.endpoint] },
      tokenA,
    );
    if (res.status === 202) {
      await eventually(
        async () =>
          (await db('select status from background_tasks where id = ?', [res.body.id]))[0]?.status !==
          'running',
        'the replay task to end',
      );
      await eventually(
        async () =>
          (
            await db(`select count(*)::int n from deliveries where app_id = ? and state <> 'success'`, [a.id])
          )[0].n === 0,
        "A's deliveries to settle",
      );
    } else expect([404, 422]).toContain(res.status);
    expect(await fingerprint(b.id)).toEqual(before);
    expect(receiver.received.filter((r) => r.path?.startsWith('/b')).length).toBe(receivedBefore);
  });

  it('refuses tokens of a deleted application, expired tokens and tokens signed with another key (401)', async () => {
    const c = await stack.call('POST', '/api/v1/app', { name: 'short-lived' });
    const cToken = (await stack.call('POST', `/api/v1/auth/app-portal-access/${c.body.id}`, {})).body.token;
    expect((await stack.call('GET', `/api/v1/app/${c.body.id}`, undefined, cToken)).status).toBe(200);
    expect((await stack.call('DELETE', `/api/v1/app/${c.body.id}`)).status).toBe(204);

    const expired = await stack.services.tokens.issueAppToken(a.id, -60);
    const otherKey = await new Tokens(stack.adminToken, randomBytes(32).toString('base64')).issueAppToken(
      a.id,
    );
    const [header, payload] = tokenA.split('.');
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${payload}.`;
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), app: b.id })).toString('base64url')}.${tokenA.split('.')[2]}`;
    for (const [what, token, path] of [
      ['deleted app', cToken, `/api/v1/app/${c.body.id}`],
      ['deleted app, another route', cToken, `/api/v1/app/${c.body.id}/endpoint`],
      ['expired', expired, `/api/v1/app/${a.id}`],
      ['another key', otherKey, `/api/v1/app/${a.id}`],
      ['alg none', unsigned, `/api/v1/app/${a.id}`],
      ['payload swapped to B', tampered, `/api/v1/app/${b.id}`],
    ]) {
      const res = await stack.call('GET', path, undefined, token);
      expect({ what, status: res.status, code: res.body?.code }).toEqual({
        what,
        status: 401,
        code: 'authentication_failed',
      });
    }
    // The same request with a current token works, so the 401s above are about the token.
    expect((await stack.call('GET', `/api/v1/app/${a.id}`, undefined, tokenA)).status).toBe(200);
  });
});
