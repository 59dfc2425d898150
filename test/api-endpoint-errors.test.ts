import { randomBytes } from 'node:crypto';
import { startStack, type Stack } from './harness/stack';
import { seedApp } from './harness/seed';

/**
 * Bad input to the endpoints API: a 4xx that says where, and nothing written. Each case
 * compares the application's rows before and after.
 */
describe('endpoints API errors', () => {
  let stack: Stack;
  let appId: string;
  let otherAppId: string;
  let epId: string;
  const prefix = `epe${randomBytes(4).toString('hex')}`;
  const known = `${prefix}.known`;
  const archived = `${prefix}.archived`;
  const url = 'http://127.0.0.1:9/hook';
  const api = (method: string, path: string, body?: unknown, token?: string) =>
    stack.call(method, `/api/v1${path}`, body, token);
  const db = () => stack.services.orm.em.getConnection();

  async function snapshot(): Promise<string> {
    const endpoints = await db().execute('select * from endpoints where app_id in (?, ?) order by id', [
      appId,
      otherAppId,
    ]);
    const messages = await db().execute('select id from messages where app_id in (?, ?) order by id', [
      appId,
      otherAppId,
    ]);
    return JSON.stringify({ endpoints, messages });
  }

  /** Sends the request, expects the status (and the 422's first loc), and checks nothing changed. */
  async function refused(
    method: string,
    path: string,
    body: unknown,
    status: number,
    loc?: Array<string | number>,
    token?: string,
  ) {
    const before = await snapshot();
    const res = await api(method, path, body, token);
    expect({ method, path, status: res.status }).toEqual({ method, path, status });
    if (status === 422) {
      expect(Array.isArray(res.body.detail)).toBe(true);
      for (const issue of res.body.detail)
        expect(issue).toEqual({ loc: expect.any(Array), msg: expect.any(String), type: expect.any(String) });
      if (loc) expect(res.body.detail.map((d: { loc: unknown }) => d.loc)).toContainEqual(loc);
    } else if (status !== 400) {
      expect(res.body).toEqual({ code: expect.any(String), detail: expect.any(String) });
    }
    expect(await snapshot()).toBe(before);
    return res;
  }

  beforeAll(async () => {
    stack = await startStack({}, { worker: false });
    await db().execute('insert into event_types (name, archived) values (?, false), (?, true)', [
      known,
      archived,
    ]);
    appId = await seedApp(stack.services);
    otherAppId = await seedApp(stack.services);
    const created = await api('POST', `/app/${appId}/endpoint`, {
      url,
      uid: 'taken',
      eventTypes: [known],
      payloadTemplate: '{"e": "{{event}}"}',
    });
    expect(created.status).toBe(201);
    epId = created.body.id;
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('refuses URLs that are not http(s) URLs', async () => {
    const create = `/app/${appId}/endpoint`;
    await refused('POST', create, { url: 'not a url' }, 422, ['body', 'url']);
    const ftp = await refused('POST', create, { url: 'ftp://example.com/hook' }, 422, ['body', 'url']);
    expect(ftp.body.detail[0].msg).toMatch(/http or https/);
    await refused('POST', create, { url: 'javascript:alert(1)' }, 422, ['body', 'url']);
    await refused('POST', create, { url: `https://example.com/${'a'.repeat(2048)}` }, 422, ['body', 'url']);
    await refused('POST', create, {}, 422, ['body', 'url']);
    await refused('PATCH', `/app/${appId}/endpoint/${epId}`, { url: 'file:///etc/passwd' }, 422, [
      'body',
      'url',
    ]);
    await refused('PUT', `/app/${appId}/endpoint/${epId}`, { url: 'gopher://x' }, 422, ['body', 'url']);
  });

  it('refuses malformed secrets', async () => {
    const create = `/app/${appId}/endpoint`;
    await refused('POST', create, { url, secret: 'whsec_short' }, 422, ['body', 'secret']);
    await refused('POST', create, { url, secret: `whsec_${randomBytes(100).toString('base64')}` }, 422, [
      'body',
      'secret',
    ]);
    await refused('POST', create, { url, secret: 'whsec_!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!' }, 422, [
      'body',
      'secret',
    ]);
    await refused('POST', `/app/${appId}/endpoint/${epId}/secret/rotate`, { key: 'nope' }, 422, [
      'body',
      'key',
    ]);
    await refused('PATCH', `/app/${appId}/endpoint/${epId}`, { secret: 'whsec_AAAA' }, 422, [
      'body',
      'secret',
    ]);
  });

  it('names unknown and archived event types by their index, under the name the body used', async () => {
    const create = `/app/${appId}/endpoint`;
    const res = await refused('POST', create, { url, eventTypes: [known, `${prefix}.nope`, archived] }, 422);
    expect(res.body.detail).toEqual([
      { loc: ['body', 'eventTypes', 1], msg: expect.stringContaining('does not exist'), type: 'value_error' },
      { loc: ['body', 'eventTypes', 2], msg: expect.stringContaining('archived'), type: 'value_error' },
    ]);
    await refused('POST', create, { url, filterTypes: [`${prefix}.nope`] }, 422, ['body', 'filterTypes', 0]);
    await refused('PATCH', `/app/${appId}/endpoint/${epId}`, { filterTypes: [`${prefix}.nope`] }, 422, [
      'body',
      'filterTypes',
      0,
    ]);
    await refused('PUT', `/app/${appId}/endpoint/${epId}`, { url, eventTypes: [archived] }, 422, [
      'body',
      'eventTypes',
      0,
    ]);
    await refused('POST', create, { url, eventTypes: ['bad type!'] }, 422, ['body', 'eventTypes', 0]);
    await refused('POST', create, { url, eventTypes: [] }, 422, ['body', 'eventTypes']);
    await refused('POST', create, { url, eventTypes: [known], filterTypes: [`${prefix}.other`] }, 422, [
      'body',
      'filterTypes',
    ]);
    await refused('POST', create, { url, throttleRate: 5, rateLimit: 6 }, 422, ['body', 'rateLimit']);
  });

  it('refuses too many or malformed channels and out-of-range numbers', async () => {
    const create = `/app/${appId}/endpoint`;
    const eleven = Array.from({ length: 11 }, (_, i) => `ch${i}`);
    await refused('POST', create, { url, channels: eleven }, 422, ['body', 'channels']);
    await refused('PATCH', `/app/${appId}/endpoint/${epId}`, { channels: eleven }, 422, ['body', 'channels']);
    await refused('POST', create, { url, channels: ['has space'] }, 422, ['body', 'channels', 0]);
    await refused('POST', create, { url, version: 0 }, 422, ['body', 'version']);
    await refused('POST', create, { url, throttleRate: 0 }, 422, ['body', 'throttleRate']);
    await refused('POST', create, { url, method: 'TRACE' }, 422, ['body', 'method']);
    await refused('POST', create, { url, metadata: { a: 1 } }, 422, ['body', 'metadata', 'a']);
  });

  it('makes header injection impossible and keeps reserved headers to the sender', async () => {
    const create = `/app/${appId}/endpoint`;
    const headersPath = `/app/${appId}/endpoint/${epId}/headers`;
    await refused('POST', create, { url, headers: { 'x-a\r\nb': 'v' } }, 422, [
      'body',
      'headers',
      'x-a\r\nb',
    ]);
    await refused('POST', create, { url, headers: { 'x-a': 'v\r\nX-Injected: 1' } }, 422, [
      'body',
      'headers',
      'x-a',
    ]);
    await refused('PUT', headersPath, { headers: { 'x-a\r\nb': 'v' } }, 422, ['body', 'headers', 'x-a\r\nb']);
    await refused('PATCH', headersPath, { headers: { 'x-a': 'v\nX-Injected: 1' } }, 422, [
      'body',
      'headers',
      'x-a',
    ]);
    await refused('PATCH', headersPath, { headers: { 'x a': 'v' } }, 422, ['body', 'headers', 'x a']);
    await refused('PATCH', headersPath, { headers: { 'x-nul': 'a\u0000b' } }, 422, [
      'body',
      'headers',
      'x-nul',
    ]);
    await refused('PATCH', `/app/${appId}/endpoint/${epId}`, { bearerToken: 'abc\r\nX-Injected: 1' }, 422, [
      'body',
      'bearerToken',
    ]);
    for (const name of [
      'Host',
      'content-length',
      'Transfer-Encoding',
      'connection',
      'user-agent',
      'content-type',
      'webhook-signature',
      'Svix-Id',
      'x-svix-foo',
      'x-forwarded-for',
    ]) {
      const res = await refused('PUT', headersPath, { headers: { [name]: 'x' } }, 422, [
        'body',
        'headers',
        name,
      ]);
      expect(res.body.detail[0].msg).toMatch(/reserved/);
    }
    const many = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`x-h${i}`, 'v']));
    await refused('PUT', headersPath, { headers: many }, 422, ['body', 'headers']);
  });

  it('refuses unknown fields, malformed JSON, bad template and uid problems', async () => {
    const create = `/app/${appId}/endpoint`;
    const extra = await refused('POST', create, { url, colour: 'blue' }, 422, ['body']);
    expect(extra.body.detail[0]).toMatchObject({
      type: 'value_error.extra',
      msg: expect.stringContaining('colour'),
    });
    await refused('PATCH', `/app/${appId}/endpoint/${epId}`, { headers: { 'x-a': 'b' } }, 422);
    await refused('POST', `/app/${appId}/endpoint/${epId}/secret/rotate`, { grace: 1 }, 422);
    await refused('PUT', `/app/${appId}/endpoint/${epId}/headers`, { headers: { 'x-a': 'b' }, more: 1 }, 422);
    await refused('POST', create, '{"url": ', 400);
    await refused('POST', create, { url, uid: 'ep_looks_like_an_id' }, 422, ['body', 'uid']);
    await refused('POST', create, { url, uid: 'taken' }, 409);
    await refused('PATCH', `/app/${appId}/endpoint/${epId}`, { payloadTemplate: '{"a": {{#x}}' }, 422, [
      'body',
      'payloadTemplate',
    ]);
    await refused(
      'POST',
      `/app/${appId}/endpoint/${epId}/send-example`,
      { eventType: `${prefix}.nope` },
      422,
      ['body', 'eventType'],
    );
    await refused('POST', `/app/${appId}/endpoint/${epId}/send-example`, { eventType: known }, 422, [
      'body',
      'eventType',
    ]);
  });

  it('answers bad ids with 422, unknown ones with 404, and never reaches another application', async () => {
    await refused('GET', `/app/bad!id/endpoint`, undefined, 422, ['path', 'app']);
    await refused('GET', `/app/${appId}/endpoint/bad%20id`, undefined, 422, ['path', 'endpoint']);
    await refused('GET', `/app/${appId}/endpoint/ep_2ZZZZZZZZZZZZZZZZZZZZZZZZZ`, undefined, 404);
    await refused('GET', `/app/app_2ZZZZZZZZZZZZZZZZZZZZZZZZZ/endpoint`, undefined, 404);
    await refused('GET', `/app/${appId}/endpoint?limit=0`, undefined, 422, ['query', 'limit']);
    await refused('PUT', `/app/${appId}/endpoint/msg_not_a_uid`, { url }, 422, ['path', 'endpoint']);

    // Another application's path: the endpoint does not exist there.
    for (const [method, suffix, body] of [
      ['GET', '', undefined],
      ['PATCH', '', { description: 'x' }],
      ['PUT', '', { url }],
      ['DELETE', '', undefined],
      ['GET', '/secret', undefined],
      ['GET', '/stats', undefined],
      ['PUT', '/headers', { headers: {} }],
      ['POST', '/send-example', { eventType: 'svix.ping' }],
    ] as const) {
      await refused(method, `/app/${otherAppId}/endpoint/${epId}${suffix}`, body, 404);
    }

    // An app token reaches its own application only; another one's is 404, not 403.
    const otherToken = await stack.services.tokens.issueAppToken(otherAppId);
    await refused('GET', `/app/${appId}/endpoint`, undefined, 404, undefined, otherToken);
    await refused('POST', `/app/${appId}/endpoint`, { url }, 404, undefined, otherToken);
    await refused('DELETE', `/app/${appId}/endpoint/${epId}`, undefined, 404, undefined, otherToken);
    await refused('GET', `/app/${appId}/endpoint`, undefined, 401, undefined, 'not-a-token');
    const ownToken = await stack.services.tokens.issueAppToken(appId);
    expect((await api('GET', `/app/${appId}/endpoint/${epId}`, undefined, ownToken)).status).toBe(200);
  });

  it('with HOOKFLOW_HTTPS_ONLY, refuses http URLs', async () => {
    const strict = await startStack({ HOOKFLOW_HTTPS_ONLY: 'true' }, { worker: false });
    try {
      const app = await seedApp(strict.services);
      const res = await strict.call('POST', `/api/v1/app/${app}/endpoint`, {
        url: 'http://example.com/hook',
      });
      expect(res.status).toBe(422);
      expect(res.body.detail[0]).toMatchObject({ loc: ['body', 'url'], msg: expect.stringMatching(/https/) });
      const rows = await strict.services.orm.em
        .getConnection()
        .execute('select count(*)::int as n from endpoints where app_id = ?', [app]);
      expect(rows[0].n).toBe(0);
      expect(
        (await strict.call('POST', `/api/v1/app/${app}/endpoint`, { url: 'https://example.com/hook' }))
          .status,
      ).toBe(201);
    } finally {
      await strict.close();
    }
  });
});
