import { Svix, Webhook, messageInRaw } from 'svix';
import { startStack, type Stack } from './harness/stack';
import { Receiver } from './harness/receiver';
import { eventually } from './harness/wait';

/**
 * The official `svix` 1.x SDK against Hookflow with `serverUrl`: what a customer's code
 * does, end to end, including signature verification with the SDK's own `Webhook`.
 */
describe('svix SDK round trip', () => {
  let stack: Stack;
  let receiver: Receiver;
  let svix: Svix;
  const suffix = Math.random().toString(36).slice(2, 8);
  const code = (p: Promise<unknown>) =>
    p.then(
      () => 'ok',
      (e: { code?: number }) => e.code,
    );

  beforeAll(async () => {
    stack = await startStack();
    receiver = await new Receiver().listen();
    svix = new Svix(stack.adminToken, { serverUrl: stack.url });
  });
  afterAll(async () => {
    await stack?.close();
    await receiver?.close();
  });

  it('manages applications', async () => {
    const app = await svix.application.create({
      name: 'SDK app',
      uid: `sdk-${suffix}`,
      metadata: { tier: 'gold' },
    });
    expect(app.id).toMatch(/^app_/);
    expect(app.createdAt).toBeInstanceOf(Date);
    const same = await svix.application.getOrCreate({ name: 'ignored', uid: `sdk-${suffix}` });
    expect(same.id).toBe(app.id);
    expect((await svix.application.get(`sdk-${suffix}`)).id).toBe(app.id);
    const updated = await svix.application.update(app.id, {
      name: 'SDK app 2',
      uid: `sdk-${suffix}`,
      throttleRate: 20,
    });
    expect(updated).toMatchObject({ name: 'SDK app 2', throttleRate: 20 });
    const patched = await svix.application.patch(app.id, { metadata: { tier: 'platinum' } });
    expect(patched).toMatchObject({ name: 'SDK app 2', metadata: { tier: 'platinum' }, throttleRate: 20 });
    const list = await svix.application.list({ limit: 250 });
    expect(list.data.map((a) => a.id)).toContain(app.id);
    expect(await code(svix.application.create({ name: 'dup', uid: `sdk-${suffix}` }))).toBe(409);
    expect(await code(svix.application.get('app_nosuchthing'))).toBe(404);
    const temp = await svix.application.create({ name: 'temp' });
    await svix.application.delete(temp.id);
    expect(await code(svix.application.get(temp.id))).toBe(404);
  });

  it('manages event types', async () => {
    const name = `invoice.paid.${suffix}`;
    const created = await svix.eventType.create({
      name,
      description: 'An invoice was paid',
      schemas: {
        '1': { type: 'object', properties: { id: { type: 'string' } }, examples: [{ id: 'inv_1' }] },
      },
    });
    expect(created).toMatchObject({ name, archived: false, deprecated: false });
    expect((await svix.eventType.get(name)).description).toBe('An invoice was paid');
    expect((await svix.eventType.update(name, { description: 'Paid', deprecated: true })).deprecated).toBe(
      true,
    );
    expect((await svix.eventType.patch(name, { groupName: 'billing' })).groupName).toBe('billing');
    const listed = await svix.eventType.list({ limit: 250, withContent: true });
    expect(listed.data.map((e) => e.name)).toContain(name);
    await svix.eventType.delete(name);
    expect((await svix.eventType.get(name)).archived).toBe(true);
    expect((await svix.eventType.list({ limit: 250 })).data.map((e) => e.name)).not.toContain(name);
    expect(
      (await svix.eventType.list({ limit: 250, includeArchived: true })).data.map((e) => e.name),
    ).toContain(name);
    await svix.eventType.delete(name, { expunge: true });
    expect(await code(svix.eventType.get(name))).toBe(404);
  });

  it('gives portal access with a token the SDK can use for that app only', async () => {
    const app = await svix.application.create({ name: 'Portal app' });
    const other = await svix.application.create({ name: 'Other app' });
    const access = await svix.authentication.appPortalAccess(app.id, {});
    expect(access.url).toContain(`/portal/#token=${access.token}`);
    const tenant = new Svix(access.token, { serverUrl: stack.url });
    expect((await tenant.application.get(app.id)).id).toBe(app.id);
    expect(await code(tenant.application.get(other.id))).toBe(404);
    expect(await code(tenant.application.list())).toBe(403);
    await tenant.authentication.logout();
    expect(await code(tenant.application.get(app.id))).toBe(401);
    const onTheFly = await svix.authentication.appPortalAccess(`portal-${suffix}`, {
      application: { name: 'Made on the fly' },
    });
    expect(onTheFly.token).toBeTruthy();
    expect((await svix.application.get(`portal-${suffix}`)).name).toBe('Made on the fly');
  });

  /** The delivery's signature headers, as the SDK's Webhook reads them. */
  const signatureHeaders = (got: { headers: Record<string, unknown> }) => ({
    'webhook-id': String(got.headers['webhook-id']),
    'webhook-timestamp': String(got.headers['webhook-timestamp']),
    'webhook-signature': String(got.headers['webhook-signature']),
  });

  it('sends raw payloads (messageInRaw) byte for byte, signed over those bytes', async () => {
    const app = await svix.application.create({ name: 'Raw app' });
    const ep = await svix.endpoint.create(app.id, { url: receiver.url('/sdk-raw') });
    const { key: secret } = await svix.endpoint.getSecret(app.id, ep.id);
    receiver.secrets = [secret];

    const json = '{ "id" : 9007199254740993,\n  "b": 1e400 }';
    const m1 = await svix.message.create(app.id, messageInRaw('raw.json', json));
    const got1 = await eventually(() => receiver.received.find((r) => r.id === m1.id), 'the raw JSON');
    expect(got1.bytes.equals(Buffer.from(json))).toBe(true);
    expect(got1.headers['content-type']).toBe('application/json');
    new Webhook(secret).verify(got1.body, signatureHeaders(got1));

    const xml = '<order id="7"><total>42.00</total><note>é 🎉</note></order>';
    const m2 = await svix.message.create(app.id, messageInRaw('raw.xml', xml, 'application/xml'));
    const got2 = await eventually(() => receiver.received.find((r) => r.id === m2.id), 'the raw XML');
    expect(got2.bytes.equals(Buffer.from(xml))).toBe(true);
    expect(got2.headers['content-type']).toBe('application/xml');
    // The SDK's verify parses JSON after checking; XML is checked with the SDK's own signing.
    const h = signatureHeaders(got2);
    const expected = new Webhook(secret).sign(m2.id, new Date(Number(h['webhook-timestamp']) * 1000), xml);
    expect(h['webhook-signature'].split(' ')).toContain(expected);
    expect(got2.verified).toBe(true);
    expect((await svix.message.get(app.id, m2.id)).payload).toEqual({});
    await svix.application.delete(app.id);
  });

  it('expunges message and attempt content, and refuses to resend an expunged message (400)', async () => {
    const app = await svix.application.create({ name: 'Expunge app' });
    const ep = await svix.endpoint.create(app.id, { url: receiver.url('/sdk-expunge') });
    const msg = await svix.message.create(app.id, { eventType: 'x.expunge', payload: { secret: 's' } });
    const attempt = await eventually(async () => {
      const page = await svix.messageAttempt.listByMsg(app.id, msg.id);
      return page.data.find((a) => a.status === 0);
    }, 'the attempt');
    await svix.messageAttempt.expungeContent(app.id, msg.id, attempt.id);
    expect((await svix.messageAttempt.get(app.id, msg.id, attempt.id)).response).toBe('EXPUNGED');
    await svix.message.expungeContent(app.id, msg.id);
    expect((await svix.message.get(app.id, msg.id)).payload).toEqual({ expired: true });
    expect(await code(svix.messageAttempt.resend(app.id, msg.id, ep.id))).toBe(400);
    await svix.application.delete(app.id);
  });

  it('lists endpoints newest first and attempted destinations in ascending id; send-example answers the message', async () => {
    const app = await svix.application.create({ name: 'Order app' });
    const ids: string[] = [];
    for (const path of ['/o1', '/o2', '/o3'])
      ids.push((await svix.endpoint.create(app.id, { url: receiver.url(path) })).id);
    expect((await svix.endpoint.list(app.id)).data.map((e) => e.id)).toEqual([...ids].reverse());
    const msg = await svix.message.create(app.id, { eventType: 'x.order', payload: {} });
    const destinations = await eventually(async () => {
      const page = await svix.messageAttempt.listAttemptedDestinations(app.id, msg.id);
      return page.data.length === 3 ? page : null;
    }, 'three destinations');
    expect(destinations.data.map((e) => e.id)).toEqual(ids);
    const example = await svix.endpoint.sendExample(app.id, ids[0], { eventType: 'svix.ping' });
    expect(example).toMatchObject({ eventType: 'svix.ping', payload: { success: true } });
    await svix.application.delete(app.id);
  });

  it('reads background tasks after a recover, a replay-missing and an endpoint deletion', async () => {
    const app = await svix.application.create({ name: 'Tasks app' });
    const since = new Date(Date.now() - 60_000);
    await svix.message.create(app.id, { eventType: 'x.task', payload: { n: 1 } });
    // Created after the message: replay-missing sends it there.
    const ep = await svix.endpoint.create(app.id, { url: receiver.url('/sdk-tasks') });
    const recover = await svix.endpoint.recover(app.id, ep.id, { since });
    const replay = await svix.endpoint.replayMissing(app.id, ep.id, { since });
    const done = (id: string) =>
      eventually(async () => {
        const t = await svix.backgroundTask.get(id);
        return t.status !== 'running' ? t : null;
      }, `task ${id}`);
    expect(await done(recover.id)).toMatchObject({
      task: 'endpoint.recover',
      status: 'finished',
      data: { messagesSent: 0 },
    });
    expect(await done(replay.id)).toMatchObject({
      task: 'endpoint.replay',
      status: 'finished',
      data: { messagesSent: 1 },
    });
    await svix.endpoint.delete(app.id, ep.id);
    const list = await svix.backgroundTask.list({ limit: 250 });
    expect(list.data.map((t) => t.id)).toEqual(expect.arrayContaining([recover.id, replay.id]));
    for (const t of list.data) {
      expect(['endpoint.recover', 'endpoint.replay']).toContain(t.task);
      expect(['running', 'finished', 'failed']).toContain(t.status);
    }
    await svix.application.delete(app.id);
  });

  it('expires every portal token of an application (expire-all)', async () => {
    const app = await svix.application.create({ name: 'Expire app' });
    const before = await svix.authentication.appPortalAccess(app.id, {});
    const tenant = new Svix(before.token, { serverUrl: stack.url });
    expect((await tenant.application.get(app.id)).id).toBe(app.id);
    await svix.authentication.expireAll(app.id, {});
    expect(await code(tenant.application.get(app.id))).toBe(401);
    const after = await svix.authentication.appPortalAccess(app.id, {});
    expect((await new Svix(after.token, { serverUrl: stack.url }).application.get(app.id)).id).toBe(app.id);
    await svix.application.delete(app.id);
  });

  // Depends on the endpoints, messages and attempts routers as well as this task's.
  it('delivers a message to an endpoint, signed so that Webhook.verify accepts it, before and after a secret rotation', async () => {
    const app = await svix.application.create({ name: 'Delivery app' });
    await svix.eventType.create({ name: `order.created.${suffix}`, description: 'An order' });
    const ep = await svix.endpoint.create(app.id, {
      url: receiver.url('/sdk'),
      filterTypes: [`order.created.${suffix}`],
    });
    expect(ep.id).toMatch(/^ep_/);
    const { key: secret } = await svix.endpoint.getSecret(app.id, ep.id);
    expect(secret).toMatch(/^whsec_/);
    receiver.secrets = [secret];

    const msg = await svix.message.create(app.id, {
      eventType: `order.created.${suffix}`,
      payload: { orderId: 'o_1' },
    });
    const got = await eventually(() => receiver.received.find((r) => r.id === msg.id), 'the first delivery');
    const headers = {
      'webhook-id': String(got.headers['webhook-id']),
      'webhook-timestamp': String(got.headers['webhook-timestamp']),
      'webhook-signature': String(got.headers['webhook-signature']),
    };
    expect(new Webhook(secret).verify(got.body, headers)).toEqual({ orderId: 'o_1' });
    expect(() =>
      new Webhook(`whsec_${Buffer.from('not the secret at all!!').toString('base64')}`).verify(
        got.body,
        headers,
      ),
    ).toThrow();

    const attempts = await eventually(async () => {
      const page = await svix.messageAttempt.listByMsg(app.id, msg.id);
      return page.data.length > 0 && page.data[0].status === 0 ? page : null;
    }, 'a successful attempt');
    expect(attempts.data[0]).toMatchObject({ msgId: msg.id, endpointId: ep.id, responseStatusCode: 200 });
    expect((await svix.messageAttempt.listByEndpoint(app.id, ep.id)).data.map((a) => a.msgId)).toContain(
      msg.id,
    );

    // The SDK parses the answer of a resend as JSON: `{}`, as Svix answers.
    await svix.messageAttempt.resend(app.id, msg.id, ep.id);
    await eventually(
      () => receiver.received.filter((r) => r.id === msg.id).length >= 2,
      'the resent delivery',
    );

    await svix.endpoint.rotateSecret(app.id, ep.id, {});
    const { key: rotated } = await svix.endpoint.getSecret(app.id, ep.id);
    expect(rotated).not.toBe(secret);
    const second = await svix.message.create(app.id, {
      eventType: `order.created.${suffix}`,
      payload: { orderId: 'o_2' },
    });
    const got2 = await eventually(
      () => receiver.received.find((r) => r.id === second.id),
      'the delivery after rotation',
    );
    const headers2 = {
      'webhook-id': String(got2.headers['webhook-id']),
      'webhook-timestamp': String(got2.headers['webhook-timestamp']),
      'webhook-signature': String(got2.headers['webhook-signature']),
    };
    expect(new Webhook(rotated).verify(got2.body, headers2)).toEqual({ orderId: 'o_2' });

    await svix.endpoint.delete(app.id, ep.id);
    await svix.application.delete(app.id);
    expect(await code(svix.application.get(app.id))).toBe(404);
  });
});
