import { Webhook } from 'standardwebhooks';
import { startListener, listenOptions, type Delivery, type Listener } from '../src/listen';
import { generateSecret } from '../src/domain/signing';
import { startStack, type Stack } from './harness/stack';
import { seedApp, seedEndpoint } from './harness/seed';
import { eventually } from './harness/wait';

/** `hookflow listen`: prints deliveries and checks signatures with the standardwebhooks library. */
describe('hookflow listen', () => {
  const secret = generateSecret();
  let listener: Listener;
  let printed: string[];
  let deliveries: Delivery[];

  beforeEach(async () => {
    printed = [];
    deliveries = [];
    listener = await startListener(
      { port: 0, secret },
      (t) => printed.push(t),
      (d) => deliveries.push(d),
    );
  });
  afterEach(() => listener.close());

  async function post(body: string, headers: Record<string, string>) {
    return fetch(listener.url + 'hooks?x=1', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
  }

  it('prints headers and pretty JSON, and says the signature verifies', async () => {
    const body = JSON.stringify({ type: 'contact.created', data: { id: 7 } });
    const ts = new Date();
    const signature = new Webhook(secret).sign('msg_1', ts, body);
    const res = await post(body, {
      'webhook-id': 'msg_1',
      'webhook-timestamp': String(Math.floor(ts.getTime() / 1000)),
      'webhook-signature': signature,
    });
    expect(res.status).toBe(200);
    const out = printed.join('');
    expect(out).toContain('POST /hooks?x=1');
    expect(out).toContain('webhook-id: msg_1');
    expect(out).toContain('{\n  "type": "contact.created",\n  "data": {\n    "id": 7\n  }\n}');
    expect(out).toContain('✔ signature verified');
    expect(deliveries[0].verdict).toEqual({ verified: true });
  });

  it('says so when the signature does not verify, or is missing', async () => {
    const body = '{"a":1}';
    const other = new Webhook(generateSecret()).sign('msg_2', new Date(), body);
    await post(body, {
      'webhook-id': 'msg_2',
      'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
      'webhook-signature': other,
    });
    await post(body, {});
    expect(deliveries.map((d) => d.verdict.verified)).toEqual([false, false]);
    expect(printed[0]).toContain('✘ signature does NOT verify');
    expect(printed[1]).toContain('no webhook-signature header');
  });

  it('shortens bearer tokens in what it prints', async () => {
    await post('{}', { authorization: 'Bearer supersecrettokenvalue' });
    expect(printed[0]).toContain('authorization: Bearer supe…');
    expect(printed[0]).not.toContain('supersecrettokenvalue');
  });

  it('answers with the status it is told, and refuses a malformed secret', async () => {
    const failing = await startListener({ port: 0, status: 503 }, (t) => printed.push(t));
    try {
      const res = await fetch(failing.url, { method: 'POST', body: 'plain text' });
      expect(res.status).toBe(503);
      expect(printed.at(-1)).toContain('plain text');
      expect(printed.at(-1)).toContain('signature not checked');
    } finally {
      await failing.close();
    }
    const bad = listenOptions.safeParse({ secret: 'not-a-secret' });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0].path).toEqual(['secret']);
  });

  describe('with a real delivery', () => {
    let stack: Stack;
    beforeAll(async () => {
      stack = await startStack();
    });
    afterAll(() => stack?.close());

    it('verifies what Hookflow sends', async () => {
      const appId = await seedApp(stack.services);
      await seedEndpoint(stack.services, appId, { url: `${listener.url}webhook`, secret });
      const res = await stack.call('POST', `/api/v1/app/${appId}/msg`, {
        eventType: 'invoice.paid',
        payload: { amount: 42 },
      });
      expect(res.status).toBe(202);
      const got = await eventually(
        () => deliveries.find((d) => d.headers['webhook-id'] === res.body.id),
        'the delivery at the listener',
      );
      expect(got.verdict).toEqual({ verified: true });
      expect(printed.join('')).toContain('"amount": 42');
    });
  });
});
