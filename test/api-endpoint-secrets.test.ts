import { randomBytes } from 'node:crypto';
import { startStack, type Stack } from './harness/stack';
import { Receiver } from './harness/receiver';
import { seedApp } from './harness/seed';
import { eventually } from './harness/wait';

/** Signing secrets (read, rotate with grace) and custom headers (redacted, sealed at rest). */
describe('endpoint secrets and headers', () => {
  let stack: Stack;
  let receiver: Receiver;
  const eventType = `eps${randomBytes(4).toString('hex')}.thing.happened`;
  const api = (method: string, path: string, body?: unknown) => stack.call(method, `/api/v1${path}`, body);
  const db = () => stack.services.orm.em.getConnection();
  const row = async (id: string) => (await db().execute('select * from endpoints where id = ?', [id]))[0];

  beforeAll(async () => {
    receiver = await new Receiver().listen();
    stack = await startStack();
    await db().execute('insert into event_types (name) values (?)', [eventType]);
  });
  afterAll(async () => {
    await stack?.close();
    await receiver?.close();
  });

  async function deliver(appId: string, payload: Record<string, unknown> = { n: 1 }) {
    const msg = await api('POST', `/app/${appId}/msg`, { eventType, payload });
    expect(msg.status).toBe(202);
    return eventually(() => receiver.received.find((r) => r.id === msg.body.id), 'the delivery');
  }
  const verifiesWith = (secret: string, got: { headers: Record<string, unknown>; body: string }) => {
    receiver.secrets = [secret];
    return receiver.verify(got.headers as never, got.body);
  };

  it('returns the secret given at creation, with or without its whsec_ prefix, sealed at rest', async () => {
    const appId = await seedApp(stack.services);
    const raw = randomBytes(32).toString('base64');
    const a = await api('POST', `/app/${appId}/endpoint`, { url: receiver.url(), secret: `whsec_${raw}` });
    const b = await api('POST', `/app/${appId}/endpoint`, { url: receiver.url(), secret: raw });
    expect((await api('GET', `/app/${appId}/endpoint/${a.body.id}/secret`)).body).toEqual({
      key: `whsec_${raw}`,
    });
    expect((await api('GET', `/app/${appId}/endpoint/${b.body.id}/secret`)).body).toEqual({
      key: `whsec_${raw}`,
    });
    expect(JSON.stringify(await row(a.body.id))).not.toContain(raw);
    const generated = await api('POST', `/app/${appId}/endpoint`, { url: receiver.url() });
    expect((await api('GET', `/app/${appId}/endpoint/${generated.body.id}/secret`)).body.key).toMatch(
      /^whsec_[A-Za-z0-9+/]{32}$/,
    );
  });

  it('after a rotation, deliveries carry two signatures: the old secret and the new one both verify', async () => {
    const appId = await seedApp(stack.services);
    const { body: ep } = await api('POST', `/app/${appId}/endpoint`, {
      url: receiver.url('/rotate'),
      eventTypes: [eventType],
    });
    const old = (await api('GET', `/app/${appId}/endpoint/${ep.id}/secret`)).body.key;
    const fresh = `whsec_${randomBytes(24).toString('base64')}`;

    // 200 with the new secret: Svix's current SDKs (Python 2.x) parse an EndpointSecretOut.
    expect(await api('POST', `/app/${appId}/endpoint/${ep.id}/secret/rotate`, { key: fresh })).toMatchObject({
      status: 200,
      body: { key: fresh },
    });
    expect((await api('GET', `/app/${appId}/endpoint/${ep.id}/secret`)).body).toEqual({ key: fresh });
    const stored = await row(ep.id);
    expect(stored.previous_secrets).toHaveLength(1);
    // Default grace: 24 hours.
    const expires = Date.parse(stored.previous_secrets[0].expiresAt);
    expect(expires).toBeGreaterThan(Date.now() + 23 * 3600_000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 24 * 3600_000);
    expect(JSON.stringify(stored)).not.toContain(old.slice(6));

    const got = await deliver(appId);
    expect(String(got.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(
      String(got.headers['webhook-signature'])
        .split(' ')
        .every((s) => s.startsWith('v1,')),
    ).toBe(true);
    expect(verifiesWith(old, got)).toBe(true);
    expect(verifiesWith(fresh, got)).toBe(true);
    expect(verifiesWith(`whsec_${randomBytes(24).toString('base64')}`, got)).toBe(false);
  });

  it('a rotation with no grace drops the old secret at once and prunes expired ones', async () => {
    const appId = await seedApp(stack.services);
    const { body: ep } = await api('POST', `/app/${appId}/endpoint`, {
      url: receiver.url('/nograce'),
      eventTypes: [eventType],
    });
    const first = (await api('GET', `/app/${appId}/endpoint/${ep.id}/secret`)).body.key;
    await api('POST', `/app/${appId}/endpoint/${ep.id}/secret/rotate`, { gracePeriodSeconds: 3600 });
    // The grace of the first secret has run out.
    await db().execute(
      `update endpoints set previous_secrets = jsonb_set(previous_secrets, '{0,expiresAt}', to_jsonb('2001-01-01T00:00:00.000Z'::text)) where id = ?`,
      [ep.id],
    );
    const second = (await api('GET', `/app/${appId}/endpoint/${ep.id}/secret`)).body.key;
    expect(second).not.toBe(first);
    expect(
      (await api('POST', `/app/${appId}/endpoint/${ep.id}/secret/rotate`, { gracePeriodSeconds: 0 })).status,
    ).toBe(200);
    expect((await row(ep.id)).previous_secrets).toEqual([]);
    const third = (await api('GET', `/app/${appId}/endpoint/${ep.id}/secret`)).body.key;

    const got = await deliver(appId);
    expect(String(got.headers['webhook-signature']).split(' ')).toHaveLength(1);
    expect(verifiesWith(third, got)).toBe(true);
    expect(verifiesWith(second, got)).toBe(false);
    expect(verifiesWith(first, got)).toBe(false);

    const tooLong = await api('POST', `/app/${appId}/endpoint/${ep.id}/secret/rotate`, {
      gracePeriodSeconds: 7 * 24 * 3600 + 1,
    });
    expect(tooLong.status).toBe(422);
    expect(tooLong.body.detail[0].loc).toEqual(['body', 'gracePeriodSeconds']);
    expect((await api('GET', `/app/${appId}/endpoint/${ep.id}/secret`)).body.key).toBe(third);
  });

  it('a rotation retried with its idempotency key answers the current secret; the record keeps none', async () => {
    const appId = await seedApp(stack.services);
    const { body: ep } = await api('POST', `/app/${appId}/endpoint`, { url: receiver.url('/idem') });
    const key = `rotate-${randomBytes(6).toString('hex')}`;
    const rotate = () =>
      stack.call('POST', `/api/v1/app/${appId}/endpoint/${ep.id}/secret/rotate`, {}, undefined, {
        'idempotency-key': key,
      });
    const first = await rotate();
    expect(first.status).toBe(200);
    expect(first.body.key).toMatch(/^whsec_/);
    const again = await rotate();
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body); // rotated once: the secret is still the first answer's
    expect((await api('GET', `/app/${appId}/endpoint/${ep.id}/secret`)).body).toEqual(first.body);
    const records = await db().execute('select response_body, response_headers from idempotency_records');
    expect(JSON.stringify(records)).not.toContain(first.body.key.slice('whsec_'.length));
  });

  it('headers: deleteHeaders (current SDKs) removes headers next to the older null values', async () => {
    const appId = await seedApp(stack.services);
    const { body: ep } = await api('POST', `/app/${appId}/endpoint`, {
      url: receiver.url('/delete-headers'),
      headers: { 'X-One': '1', 'X-Two': '2', 'X-Three': '3', 'X-Auth-Token': 'tok-0123456789' },
    });
    const patch = await api('PATCH', `/app/${appId}/endpoint/${ep.id}/headers`, {
      headers: { 'x-three': null, 'X-Four': '4' },
      deleteHeaders: ['X-One', 'x-auth-token'],
    });
    expect(patch.status).toBe(204);
    expect((await api('GET', `/app/${appId}/endpoint/${ep.id}/headers`)).body).toEqual({
      headers: { 'x-two': '2', 'x-four': '4' },
      sensitive: [],
    });
    const bad = await api('PATCH', `/app/${appId}/endpoint/${ep.id}/headers`, {
      headers: {},
      deleteHeaders: 'X-Two',
    });
    expect(bad.status).toBe(422);
    expect(bad.body.detail[0].loc).toEqual(['body', 'deleteHeaders']);
  });

  it('headers: sensitive values are redacted, sealed at rest, merged by PATCH, and sent', async () => {
    const appId = await seedApp(stack.services);
    const { body: ep } = await api('POST', `/app/${appId}/endpoint`, {
      url: receiver.url('/headers'),
      eventTypes: [eventType],
      headers: { 'X-Tenant': 'acme' },
    });
    expect((await api('GET', `/app/${appId}/endpoint/${ep.id}/headers`)).body).toEqual({
      headers: { 'x-tenant': 'acme' },
      sensitive: [],
    });

    const put = await api('PUT', `/app/${appId}/endpoint/${ep.id}/headers`, {
      headers: { Authorization: 'Basic c2VjcmV0LXZhbHVl', 'X-Api-Key': 'key-0123456789', 'X-Region': 'eu' },
    });
    expect(put.status).toBe(204);
    const shown = await api('GET', `/app/${appId}/endpoint/${ep.id}/headers`);
    expect(shown.body.headers).toEqual({ 'x-region': 'eu' });
    expect(shown.body.sensitive.sort()).toEqual(['authorization', 'x-api-key']);
    const stored = JSON.stringify(await row(ep.id));
    expect(stored).not.toContain('c2VjcmV0LXZhbHVl');
    expect(stored).not.toContain('key-0123456789');
    expect(stored).not.toContain('acme'); // PUT replaced the earlier set

    const patch = await api('PATCH', `/app/${appId}/endpoint/${ep.id}/headers`, {
      headers: { 'x-region': null, 'X-Extra': '1', 'x-api-key': 'key-rotated' },
    });
    expect(patch.status).toBe(204);
    const after = await api('GET', `/app/${appId}/endpoint/${ep.id}/headers`);
    expect(after.body.headers).toEqual({ 'x-extra': '1' });
    expect(after.body.sensitive.sort()).toEqual(['authorization', 'x-api-key']);
    expect(JSON.stringify(await row(ep.id))).not.toContain('key-rotated');

    receiver.secrets = [(await api('GET', `/app/${appId}/endpoint/${ep.id}/secret`)).body.key];
    const got = await deliver(appId);
    expect(got.verified).toBe(true);
    expect(got.headers).toMatchObject({
      authorization: 'Basic c2VjcmV0LXZhbHVl',
      'x-api-key': 'key-rotated',
      'x-extra': '1',
    });
    expect(got.headers['x-region']).toBeUndefined();
  });

  it('secrets and headers of another application are not reachable', async () => {
    const appA = await seedApp(stack.services);
    const appB = await seedApp(stack.services);
    const { body: ep } = await api('POST', `/app/${appA}/endpoint`, { url: receiver.url() });
    expect((await api('GET', `/app/${appB}/endpoint/${ep.id}/secret`)).status).toBe(404);
    expect((await api('POST', `/app/${appB}/endpoint/${ep.id}/secret/rotate`, {})).status).toBe(404);
    expect((await api('GET', `/app/${appB}/endpoint/${ep.id}/headers`)).status).toBe(404);
    const tokenB = await stack.services.tokens.issueAppToken(appB);
    expect(
      (await stack.call('GET', `/api/v1/app/${appA}/endpoint/${ep.id}/secret`, undefined, tokenB)).status,
    ).toBe(404);
    const tokenA = await stack.services.tokens.issueAppToken(appA);
    expect(
      (await stack.call('GET', `/api/v1/app/${appA}/endpoint/${ep.id}/secret`, undefined, tokenA)).status,
    ).toBe(200);
  });
});
