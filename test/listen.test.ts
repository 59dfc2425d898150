import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { startListener, listenOptions, type Delivery, type Listener } from '../src/cli/listen';
import { flagProblem } from '../src/cli/flags';
import { generateSecret } from '../src/domain/signing';
import { startStack, type Stack } from './harness/stack';
import { seedApp, seedEndpoint } from './harness/seed';
import { eventually } from './harness/wait';
import { attach } from '../src/cli/listen-app';
import { freePort } from '../src/temporal/dev-server';

/**
 * `hookflow listen`: prints deliveries and checks signatures with the standardwebhooks
 * library; with `--app`, it is an endpoint of the application while it runs.
 */
describe('hookflow listen', () => {
  const secret = generateSecret();
  let listener: Listener;
  let printed: string[];
  let deliveries: Delivery[];

  beforeEach(async () => {
    printed = [];
    deliveries = [];
    listener = await startListener({ port: 0, secret, verbose: true }, (t) => printed.push(t), {
      onDelivery: (d) => deliveries.push(d),
    });
  });
  afterEach(() => listener.close());

  async function post(body: string, headers: Record<string, string>) {
    return fetch(listener.url + 'hooks?x=1', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
  }

  it('prints a line per delivery, with --verbose headers and pretty JSON, and says the signature verifies', async () => {
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
    expect(out.split('\n')[0]).toMatch(/^\S+Z {2}POST \/hooks\?x=1 {2}msg_1 {2}✔ signature verified$/);
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
      // Not verbose: the line only.
      expect(printed.at(-1)).not.toContain('plain text');
      expect(printed.at(-1)?.trim().split('\n')).toHaveLength(1);
      expect(printed.at(-1)).toContain('signature not checked');
    } finally {
      await failing.close();
    }
    const bad = listenOptions.safeParse({ secret: 'not-a-secret' });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0].path).toEqual(['secret']);
    const both = listenOptions.safeParse({ secret, app: 'acme' });
    expect(both.error && flagProblem(both.error)).toBe(
      '--secret is not needed with --app: the secret is read from the endpoint',
    );
    const badUrl = listenOptions.safeParse({ app: 'acme', endpointUrl: 'ftp://x' });
    expect(badUrl.error && flagProblem(badUrl.error)).toBe('--endpoint-url must be an http(s) URL');
  });

  describe('against a real stack', () => {
    let stack: Stack;
    // Retries far away: only retry-pending can bring a failed delivery back within a test.
    beforeAll(async () => {
      stack = await startStack({ HOOKFLOW_RETRY_SCHEDULE: '300' });
    });
    afterAll(() => stack?.close());
    const target = () => ({ url: stack.url, token: stack.adminToken });

    async function newApp(): Promise<string> {
      const uid = `listen-${randomBytes(4).toString('hex')}`;
      expect((await stack.call('POST', '/api/v1/app', { name: 'Listen', uid })).status).toBe(201);
      return uid;
    }

    async function send(app: string, payload: Record<string, unknown> = { n: 1 }): Promise<string> {
      const res = await stack.call('POST', `/api/v1/app/${app}/msg`, { eventType: 'invoice.paid', payload });
      expect(res.status).toBe(202);
      return res.body.id;
    }

    /** What `hookflow listen --app` does: listen (holding deliveries), attach, then let them through. */
    async function listenTo(app: string, port = 0) {
      const out: string[] = [];
      const got: Delivery[] = [];
      const l = await startListener({ port }, (t) => out.push(t), {
        hold: true,
        onDelivery: (d) => got.push(d),
      });
      try {
        const ep = await attach(target(), app, l.url, (line) => out.push(line));
        l.ready({ secret: ep.secret, describe: ep.describe });
        const arrived = (msgId: string) =>
          eventually(() => got.find((d) => d.headers['webhook-id'] === msgId), `${msgId} at the listener`);
        return { l, ep, out, arrived };
      } catch (err) {
        await l.close();
        throw err;
      }
    }

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

    it('with --app: is an endpoint of the application, verifies with its secret, and deletes it on exit', async () => {
      const app = await newApp();
      const { l, ep, out, arrived } = await listenTo(app);
      try {
        expect(ep.created).toBe(true);
        const made = await stack.call('GET', `/api/v1/app/${app}/endpoint/${ep.endpointId}`);
        expect(made.body.url).toBe(l.url);
        const msgId = await send(app);
        expect((await arrived(msgId)).verdict).toEqual({ verified: true });
        expect(out.join('')).toMatch(
          new RegExp(`invoice\\.paid {2}${msgId} {2}attempt 1 {2}✔ signature verified\n`),
        );
      } finally {
        await l.close();
      }
      expect(await ep.detach(false)).toBe(`deleted endpoint ${ep.endpointId}`);
      expect((await stack.call('GET', `/api/v1/app/${app}/endpoint/${ep.endpointId}`)).status).toBe(404);
    });

    it('with --app: catches up a message sent just before its endpoint existed', async () => {
      const app = await newApp();
      const msgId = await send(app, { early: true });
      const { l, ep, arrived } = await listenTo(app);
      try {
        expect((await arrived(msgId)).verdict).toEqual({ verified: true });
      } finally {
        await l.close();
        await ep.detach(false);
      }
    });

    it('with --app: reuses an endpoint already pointing at it, and has its pending deliveries retried at once', async () => {
      const app = await newApp();
      const port = await freePort();
      const created = await stack.call('POST', `/api/v1/app/${app}/endpoint`, {
        url: `http://127.0.0.1:${port}/`,
      });
      const msgId = await send(app);
      // The first attempt finds nothing listening; the next one is five minutes away.
      await eventually(async () => {
        const d = await stack.call('GET', `/api/v1/app/${app}/msg/${msgId}/endpoint`);
        return d.body.data[0]?.statusText === 'pending' && d.body.data[0]?.nextAttempt;
      }, 'the first attempt to have failed');

      const { l, ep, out, arrived } = await listenTo(app, port);
      try {
        expect(ep).toMatchObject({ created: false, endpointId: created.body.id });
        expect(out).toContain('asked for 1 pending delivery to be retried now');
        expect((await arrived(msgId)).verdict).toEqual({ verified: true });
        expect(out.join('')).toContain(`${msgId}  attempt 2  ✔ signature verified`);
      } finally {
        await l.close();
      }
      expect(await ep.detach(false)).toMatch(/^left endpoint .* as it was/);
      expect((await stack.call('GET', `/api/v1/app/${app}/endpoint/${ep.endpointId}`)).status).toBe(200);
    });

    it('with --app: says so when the application does not exist or the token is refused', async () => {
      await expect(attach(target(), 'no-such-app', 'http://127.0.0.1:1/', () => {})).rejects.toThrow(
        'there is no application "no-such-app": create it first (POST /api/v1/app)',
      );
      const app = await newApp();
      await expect(
        attach({ url: stack.url, token: 'not-the-token' }, app, 'http://127.0.0.1:1/', () => {}),
      ).rejects.toThrow(/^reading application ".*": 401 .*\(is the admin token the one of this server\?\)$/);
      expect((await stack.call('GET', `/api/v1/app/${app}/endpoint`)).body.data).toEqual([]);
    });
  });
});
