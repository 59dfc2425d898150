import { startStack, type Stack } from './harness/stack';
import { Receiver } from './harness/receiver';
import { seedApp, seedEndpoint } from './harness/seed';
import { eventually } from './harness/wait';

/** The whole chain: config, migrations, the Temporal connection, the worker bundle, the API. */
describe('smoke', () => {
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

  it('answers health with every part up', async () => {
    expect((await stack.call('GET', '/api/v1/health', undefined, null)).status).toBe(204);
    expect((await stack.call('HEAD', '/api/v1/health', undefined, null)).status).toBe(204);
    const details = await eventually(async () => {
      const r = await stack.call('GET', '/api/v1/health/details', undefined, null);
      return r.body.workers.status === 'up' ? r.body : null;
    }, 'a worker polling');
    expect(details.postgres.status).toBe('up');
    expect(details.temporal.status).toBe('up');
  });

  it('delivers a message to an endpoint stored in the database, signed', async () => {
    const appId = await seedApp(stack.services);
    const ep = await seedEndpoint(stack.services, appId, { url: receiver.url() });
    receiver.secrets = [ep.secret];
    const res = await stack.call('POST', `/api/v1/app/${appId}/msg`, {
      eventType: 'user.created',
      payload: { hello: 'world' },
    });
    expect(res.status).toBe(202);
    expect(res.body.id).toMatch(/^msg_/);
    const got = await eventually(() => receiver.received.find((r) => r.id === res.body.id), 'the delivery');
    expect(got.verified).toBe(true);
    expect(JSON.parse(got.body)).toEqual({ hello: 'world' });

    const handle = stack.services.temporal.workflow.getHandle(`deliver-${res.body.id}-${ep.id}`);
    expect(await handle.result()).toEqual({ status: 'success', attempts: 1 });
  });

  it('refuses requests without a valid token', async () => {
    const res = await stack.call('GET', '/api/v1/app', undefined, 'nope');
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ code: 'authentication_failed', detail: expect.any(String) });
  });
});
