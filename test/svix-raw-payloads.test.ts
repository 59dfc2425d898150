import { startStack, type Stack } from './harness/stack';
import { Receiver } from './harness/receiver';
import { seedApp, seedEndpoint } from './harness/seed';
import { eventually } from './harness/wait';

/**
 * Issue 23 over plain HTTP: raw payloads (`transformationsParams.rawPayload`, what the Svix
 * SDKs' `NewMessageInRaw` / `message_in_raw` / `messageInRaw` send) are delivered byte for
 * byte and signed over those bytes; expunged content reads `{"expired": true}` and cannot be
 * resent (400 `missing_payload`); an attempt's response can be expunged.
 */
describe('raw payloads and expunged content, as Svix', () => {
  let stack: Stack;
  let receiver: Receiver;
  let appId: string;
  let secret: string;
  let endpointId: string;

  beforeAll(async () => {
    stack = await startStack();
    receiver = await new Receiver().listen();
    appId = await seedApp(stack.services);
    const ep = await seedEndpoint(stack.services, appId, { url: receiver.url('/raw') });
    endpointId = ep.id;
    secret = ep.secret;
    receiver.secrets.push(secret);
  });
  afterAll(async () => {
    await stack?.close();
    await receiver?.close();
  });

  /** The API's answer as text, so nothing is reparsed on the way. */
  async function text(method: string, path: string, body?: unknown) {
    const res = await fetch(`${stack.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${stack.adminToken}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, text: await res.text() };
  }

  async function sendRaw(rawPayload: string, headers?: Record<string, string>) {
    const res = await stack.call('POST', `/api/v1/app/${appId}/msg`, {
      eventType: 'raw.payload',
      payload: {},
      transformationsParams: { rawPayload, ...(headers ? { headers } : {}) },
    });
    expect(res.status).toBe(202);
    const got = await eventually(() => receiver.received.find((r) => r.id === res.body.id), 'the delivery');
    return { id: res.body.id as string, created: res.body, got };
  }

  const xml = '<invoice id="7">\n  <total currency="EUR">42.00</total>\n  <note>é 🎉</note>\n</invoice>\n';
  // JSON that normalizing would change: spacing, key order, escapes, numbers beyond a double.
  const json = '{ "b" : 1,\n  "a": [9007199254740993, 1e400], "esc": "\\u00e9" }';

  it('delivers a raw text payload byte for byte, signed over those bytes, with its content-type', async () => {
    const { id, created, got } = await sendRaw(xml, { 'content-type': 'application/xml' });
    expect(got.bytes.equals(Buffer.from(xml, 'utf8'))).toBe(true);
    expect(got.verified).toBe(true);
    expect(got.headers['content-type']).toBe('application/xml');
    // Not a JSON object: MessageOut's payload (an object in every SDK) is the `{}` sent beside it.
    expect(created.payload).toEqual({});
    expect((await stack.call('GET', `/api/v1/app/${appId}/msg/${id}`)).body.payload).toEqual({});
    const rawOut = await stack.call('GET', `/api/v1/app/${appId}/msg/${id}/raw`);
    expect(rawOut).toMatchObject({ status: 200, body: { payload: xml } });
  });

  it('sends a raw JSON payload as is, as application/json, and answers its exact text', async () => {
    const { id, got } = await sendRaw(json);
    expect(got.bytes.equals(Buffer.from(json, 'utf8'))).toBe(true);
    expect(got.verified).toBe(true);
    expect(got.headers['content-type']).toBe('application/json');
    const one = await text('GET', `/api/v1/app/${appId}/msg/${id}`);
    expect(one.text).toContain(`"payload":${json},`);
  });

  it('never runs a raw payload through the endpoint’s template', async () => {
    const other = await seedApp(stack.services);
    const ep = await seedEndpoint(stack.services, other, {
      url: receiver.url('/templated'),
      payloadTemplate: '{"wrapped": {{payload}}}',
    });
    receiver.secrets.push(ep.secret);
    const res = await stack.call('POST', `/api/v1/app/${other}/msg`, {
      eventType: 'raw.payload',
      payload: {},
      transformationsParams: { rawPayload: 'plain text, as is' },
    });
    const got = await eventually(() => receiver.received.find((r) => r.id === res.body.id), 'the delivery');
    expect(got.body).toBe('plain text, as is');
    expect(got.verified).toBe(true);
  });

  it('refuses raw payload parameters it cannot honour, with where', async () => {
    const post = (transformationsParams: unknown) =>
      stack.call('POST', `/api/v1/app/${appId}/msg`, {
        eventType: 'raw.payload',
        payload: {},
        transformationsParams,
      });
    const locs = async (p: unknown) => (await post(p)).body.detail?.map((d: { loc: unknown }) => d.loc);
    expect((await post({ rawPayload: 5 })).status).toBe(422);
    expect(await locs({ rawPayload: 5 })).toEqual([['body', 'transformationsParams', 'rawPayload']]);
    expect(await locs({ rawPayload: 'x', headers: { 'x-other': 'text/plain' } })).toEqual([
      ['body', 'transformationsParams', 'headers', 'x-other'],
    ]);
    expect(await locs({ rawPayload: 'x', headers: { 'content-type': 'not a media type' } })).toEqual([
      ['body', 'transformationsParams', 'headers', 'content-type'],
    ]);
    expect(await locs({ rawPayload: 'a\u0000b' })).toEqual([['body', 'transformationsParams', 'rawPayload']]);
  });

  it('reads expunged content as {"expired": true}, and refuses to resend it with 400 missing_payload', async () => {
    const res = await stack.call('POST', `/api/v1/app/${appId}/msg`, {
      eventType: 'expunge.me',
      payload: { secret: 'oops' },
    });
    await eventually(() => receiver.received.find((r) => r.id === res.body.id), 'the delivery');
    expect((await stack.call('DELETE', `/api/v1/app/${appId}/msg/${res.body.id}/content`)).status).toBe(204);
    expect((await stack.call('GET', `/api/v1/app/${appId}/msg/${res.body.id}`)).body.payload).toEqual({
      expired: true,
    });
    const listed = await stack.call('GET', `/api/v1/app/${appId}/msg?limit=250`);
    expect(listed.body.data.find((m: { id: string }) => m.id === res.body.id).payload).toEqual({
      expired: true,
    });
    const resend = await stack.call(
      'POST',
      `/api/v1/app/${appId}/msg/${res.body.id}/endpoint/${endpointId}/resend`,
    );
    expect(resend).toMatchObject({ status: 400, body: { code: 'missing_payload' } });
  });

  it('expunges an attempt’s response body: 204, then the attempt reads EXPUNGED', async () => {
    receiver.behaviour = () => ({ status: 200, body: '{"card": "4111 1111 1111 1111"}' });
    try {
      const res = await stack.call('POST', `/api/v1/app/${appId}/msg`, {
        eventType: 'x.y',
        payload: { a: 1 },
      });
      const attempt = await eventually(async () => {
        const page = await stack.call('GET', `/api/v1/app/${appId}/attempt/msg/${res.body.id}`);
        return page.body.data?.[0];
      }, 'the attempt');
      expect(attempt.response).toContain('4111');
      const path = `/api/v1/app/${appId}/msg/${res.body.id}/attempt/${attempt.id}`;
      expect((await stack.call('DELETE', `${path}/content`)).status).toBe(204);
      expect((await stack.call('GET', path)).body.response).toBe('EXPUNGED');
      const listed = await stack.call('GET', `/api/v1/app/${appId}/attempt/endpoint/${endpointId}?limit=250`);
      expect(listed.body.data.find((a: { id: string }) => a.id === attempt.id).response).toBe('EXPUNGED');
      // The message itself is untouched.
      expect((await stack.call('GET', `/api/v1/app/${appId}/msg/${res.body.id}`)).body.payload).toEqual({
        a: 1,
      });
      expect(
        (
          await stack.call(
            'DELETE',
            `/api/v1/app/${appId}/msg/${res.body.id}/attempt/atmpt_nosuchthing/content`,
          )
        ).status,
      ).toBe(404);
    } finally {
      receiver.behaviour = () => ({ status: 200 });
    }
  });
});
