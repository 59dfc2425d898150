import { Svix, Webhook } from 'svix';
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
