import { createHash } from 'node:crypto';
import { startStack, type Stack } from './harness/stack';
import { seedApp } from './harness/seed';

const claims = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));

/** /api/v1/auth: portal links with app-scoped tokens, and logout. */
describe('auth API', () => {
  let stack: Stack;
  const db = (sql: string, args: unknown[] = []) => stack.services.orm.em.getConnection().execute(sql, args);
  const apps = async () => Number((await db('select count(*) n from applications'))[0].n);

  beforeAll(async () => {
    stack = await startStack({}, { worker: false });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('gives a portal URL on this origin with a token in the fragment that reaches that app only', async () => {
    const appId = await seedApp(stack.services);
    const otherId = await seedApp(stack.services);
    const res = await stack.call('POST', `/api/v1/auth/app-portal-access/${appId}`, {});
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ url: expect.any(String), token: expect.any(String) });
    const url = new URL(res.body.url);
    expect(`${url.origin}${url.pathname}`).toBe(`${stack.url}/portal/`);
    expect(url.search).toBe('');
    const fragment = new URLSearchParams(url.hash.slice(1));
    expect(fragment.get('token')).toBe(res.body.token);
    expect(fragment.get('app')).toBe(appId);

    const token = res.body.token;
    expect(claims(token).exp - claims(token).iat).toBe(7 * 24 * 3600);
    expect((await stack.call('GET', `/api/v1/app/${appId}`, undefined, token)).status).toBe(200);
    expect((await stack.call('GET', `/api/v1/app/${otherId}`, undefined, token)).status).toBe(404);
    // An app token cannot mint portal links, for its own app or another.
    expect((await stack.call('POST', `/api/v1/auth/app-portal-access/${appId}`, {}, token)).status).toBe(403);
    expect((await stack.call('POST', `/api/v1/auth/app-portal-access/${otherId}`, {}, token)).status).toBe(
      403,
    );
  });

  it('honours expiry and accepts the Svix fields it does not use', async () => {
    const appId = await seedApp(stack.services);
    const res = await stack.call('POST', `/api/v1/auth/app-portal-access/${appId}`, {
      expiry: 3600,
      featureFlags: ['beta'],
      sessionId: 'session-1',
      capabilities: ['ViewBase', 'ManageEndpoint'],
      readOnly: false,
    });
    expect(res.status).toBe(200);
    expect(claims(res.body.token).exp - claims(res.body.token).iat).toBe(3600);
  });

  it('creates the application on the fly when `application` is given', async () => {
    const uid = `portal-${Math.random().toString(36).slice(2, 10)}`;
    const res = await stack.call('POST', `/api/v1/auth/app-portal-access/${uid}`, {
      application: { name: 'Made for the portal' },
    });
    expect(res.status).toBe(200);
    const rows = await db('select id, name from applications where uid = ?', [uid]);
    expect(rows).toEqual([{ id: expect.stringMatching(/^app_/), name: 'Made for the portal' }]);
    expect(claims(res.body.token).app).toBe(rows[0].id);
    // The second time the application exists and is reused.
    const again = await stack.call('POST', `/api/v1/auth/app-portal-access/${uid}`, {
      application: { name: 'ignored' },
    });
    expect(claims(again.body.token).app).toBe(rows[0].id);
    expect(await db('select name from applications where uid = ?', [uid])).toEqual([
      { name: 'Made for the portal' },
    ]);
  });

  it('answers 404 for an unknown application without `application`', async () => {
    const before = await apps();
    expect((await stack.call('POST', '/api/v1/auth/app-portal-access/app_nosuchapp', {})).status).toBe(404);
    expect((await stack.call('POST', '/api/v1/auth/app-portal-access/no-such-uid', {})).status).toBe(404);
    expect(await apps()).toBe(before);
  });

  it.each([
    ['expiry of the wrong type', { expiry: '3600' }, ['body', 'expiry']],
    ['expiry too short', { expiry: 10 }, ['body', 'expiry']],
    ['expiry too long', { expiry: 8 * 24 * 3600 }, ['body', 'expiry']],
    ['featureFlags not a list', { featureFlags: 'beta' }, ['body', 'featureFlags']],
    ['an unknown capability', { capabilities: ['Everything'] }, ['body', 'capabilities', 0]],
    ['readOnly true', { readOnly: true }, ['body', 'readOnly']],
    ['an unknown field', { admin: true }, ['body']],
    ['a bad application', { application: { name: '' } }, ['body', 'application', 'name']],
  ])('refuses %s with a 422 and creates nothing', async (_what, body, loc) => {
    const uid = `refused-${Math.random().toString(36).slice(2, 10)}`;
    const before = await apps();
    const res = await stack.call('POST', `/api/v1/auth/app-portal-access/${uid}`, {
      application: { name: 'x' },
      ...body,
    });
    expect(res.status).toBe(422);
    expect(res.body.detail[0].loc.slice(0, loc.length)).toEqual(loc);
    expect(await apps()).toBe(before);
  });

  it('refuses without a token', async () => {
    const appId = await seedApp(stack.services);
    expect((await stack.call('POST', `/api/v1/auth/app-portal-access/${appId}`, {}, null)).status).toBe(401);
    expect((await stack.call('POST', `/api/v1/auth/app-portal-access/${appId}`, {}, 'bogus')).status).toBe(
      401,
    );
  });

  it('logout revokes the token it is called with, and only that one', async () => {
    const appId = await seedApp(stack.services);
    const issue = async () =>
      (await stack.call('POST', `/api/v1/auth/app-portal-access/${appId}`, {})).body.token;
    const [token, other] = [await issue(), await issue()];
    expect((await stack.call('GET', `/api/v1/app/${appId}`, undefined, token)).status).toBe(200);
    expect((await stack.call('POST', '/api/v1/auth/logout', undefined, token)).status).toBe(204);
    const after = await stack.call('GET', `/api/v1/app/${appId}`, undefined, token);
    expect(after.status).toBe(401);
    expect(after.body.detail).toMatch(/revoked/);
    expect((await stack.call('POST', '/api/v1/auth/logout', undefined, token)).status).toBe(401);
    // Another session of the same application goes on.
    expect((await stack.call('GET', `/api/v1/app/${appId}`, undefined, other)).status).toBe(200);
    // The list holds a hash of the token, kept until the token's own expiry.
    const rows: Array<{ token_hash: string; expires_at: string }> = await stack.services.orm.em
      .getConnection()
      .execute('select token_hash, expires_at from revoked_tokens where token_hash = ?', [
        createHash('sha256').update(token).digest('hex'),
      ]);
    expect(rows).toHaveLength(1);
    expect(new Date(rows[0].expires_at).getTime()).toBeGreaterThan(Date.now() + 6 * 24 * 3600 * 1000);
    const all = await stack.services.orm.em.getConnection().execute('select token_hash from revoked_tokens');
    expect(JSON.stringify(all)).not.toContain(token);
  });

  it('logout prunes revocations whose tokens have expired anyway', async () => {
    const conn = stack.services.orm.em.getConnection();
    await conn.execute(
      `insert into revoked_tokens (token_hash, expires_at) values ('stale-${Date.now()}', now() - interval '1 minute')`,
    );
    const appId = await seedApp(stack.services);
    const token = (await stack.call('POST', `/api/v1/auth/app-portal-access/${appId}`, {})).body.token;
    expect((await stack.call('POST', '/api/v1/auth/logout', undefined, token)).status).toBe(204);
    expect(
      (await conn.execute('select count(*)::int n from revoked_tokens where expires_at < now()'))[0].n,
    ).toBe(0);
  });

  it('refuses to log out the admin token (configuration) or no token', async () => {
    const admin = await stack.call('POST', '/api/v1/auth/logout');
    expect(admin.status).toBe(403);
    expect(admin.body.detail).toMatch(/admin token/);
    expect((await stack.call('GET', '/api/v1/app')).status).toBe(200);
    expect((await stack.call('POST', '/api/v1/auth/logout', undefined, null)).status).toBe(401);
  });
});

describe('auth API with PUBLIC_URL', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ PUBLIC_URL: 'https://hooks.example.test/' }, { worker: false });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('builds the portal URL from PUBLIC_URL', async () => {
    const appId = await seedApp(stack.services);
    const res = await stack.call('POST', `/api/v1/auth/app-portal-access/${appId}`, {});
    expect(res.body.url).toBe(`https://hooks.example.test/portal/#token=${res.body.token}&app=${appId}`);
  });
});
