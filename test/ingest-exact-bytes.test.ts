import { randomUUID } from 'node:crypto';
import { startStack, type Stack } from './harness/stack';
import { Receiver } from './harness/receiver';
import { seedApp, seedEndpoint } from './harness/seed';
import { eventually } from './harness/wait';

/**
 * Payloads are delivered byte for byte (issue 13): stored as the text received, answered
 * back unchanged, signed and sent as those bytes. Numbers JavaScript cannot hold (a
 * 64-bit integer, 1e400) are kept as written, never rounded or turned into null.
 */
describe('payloads byte for byte', () => {
  let stack: Stack;
  let receiver: Receiver;

  beforeAll(async () => {
    stack = await startStack();
    receiver = await new Receiver().listen();
  });
  afterAll(async () => {
    await stack?.close();
    await receiver?.close();
  });

  /** The API's answer as text, so nothing is reparsed on the way. */
  async function raw(method: string, path: string, body?: string) {
    const res = await fetch(`${stack.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${stack.adminToken}`, 'content-type': 'application/json' },
      body,
    });
    return { status: res.status, text: await res.text() };
  }

  // Spacing, key order, escapes and numbers a JS double or jsonb would change.
  const payload =
    '{ "zeta" : 1, "alpha": {"id": 9007199254740993, "big": 1e400, "tiny": 1E-400, "neg": -0.0, "float": 1.50},' +
    ' "esc": "\\u00e9\\u2028\\/", "raw": "é 🎉", "list": [3, 2, 1], "nested": {"b": true, "a": null} }';

  it('delivers, signs and answers the exact payload text', async () => {
    const appId = await seedApp(stack.services);
    const ep = await seedEndpoint(stack.services, appId, { url: receiver.url('/exact') });
    receiver.secrets.push(ep.secret);

    const created = await raw(
      'POST',
      `/api/v1/app/${appId}/msg`,
      `{"eventType": "exact.bytes", "payload": ${payload}, "tags": ["t"]}`,
    );
    expect(created.status).toBe(202);
    expect(created.text).toContain(`"payload":${payload},`);
    const id = JSON.parse(created.text).id as string;

    const got = await eventually(() => receiver.received.find((r) => r.id === id), 'the delivery');
    expect(Buffer.from(got.body, 'utf8').equals(Buffer.from(payload, 'utf8'))).toBe(true);
    expect(got.verified).toBe(true);

    const one = await raw('GET', `/api/v1/app/${appId}/msg/${id}`);
    expect(one.status).toBe(200);
    expect(one.text).toContain(`"payload":${payload},`);
    const list = await raw('GET', `/api/v1/app/${appId}/msg`);
    expect(list.text).toContain(`"payload":${payload},`);
    const attempts = await raw('GET', `/api/v1/app/${appId}/endpoint/${ep.id}/msg`);
    expect(attempts.text).toContain(`"payload":${payload},`);
    // Without content, an empty object as before.
    expect(
      JSON.parse((await raw('GET', `/api/v1/app/${appId}/msg/${id}?with_content=false`)).text).payload,
    ).toEqual({});
  });

  it('keeps the payload of a body that starts with a byte order mark', async () => {
    const appId = await seedApp(stack.services, { webhooksEnabled: false });
    const res = await raw(
      'POST',
      `/api/v1/app/${appId}/msg`,
      '\uFEFF{"eventType":"x.y","payload":{"b":1, "a":2}}',
    );
    expect(res.status).toBe(202);
    expect(res.text).toContain('"payload":{"b":1, "a":2},');
  });

  it('refuses a body that is not UTF-8 with a 400, storing nothing', async () => {
    const appId = await seedApp(stack.services, { webhooksEnabled: false });
    const res = await fetch(`${stack.url}/api/v1/app/${appId}/msg`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.adminToken}`, 'content-type': 'application/json' },
      body: Buffer.concat([
        Buffer.from('{"eventType":"x.y","payload":{"s":"'),
        Buffer.from([0xff]),
        Buffer.from('"}}'),
      ]),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { detail: string }).detail).toMatch(/UTF-8/);
    const n = await stack.services.orm.em
      .getConnection()
      .execute('select count(*) n from messages where app_id = ?', [appId]);
    expect(Number(n[0].n)).toBe(0);
  });

  it('creates an application on the fly once for 50 concurrent first messages', async () => {
    const uid = `fly-${randomUUID().slice(0, 8)}`;
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, n) =>
        stack.call('POST', `/api/v1/app/${uid}/msg`, {
          eventType: 'first.message',
          payload: { n },
          application: { name: 'On the fly', uid },
        }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(50).fill(202));
    const apps = await stack.services.orm.em
      .getConnection()
      .execute('select id from applications where uid = ?', [uid]);
    expect(apps.length).toBe(1);
    const stored = await stack.services.orm.em
      .getConnection()
      .execute('select count(*) n from messages where app_id = ?', [apps[0].id]);
    expect(Number(stored[0].n)).toBe(50);
  });
});
