import { startStack, type Stack } from './harness/stack';
import { Receiver } from './harness/receiver';
import { seedApp, seedEndpoint } from './harness/seed';
import { eventually } from './harness/wait';

/** `POST /app/{app}/endpoint/{endpoint}/retry-pending`: pending deliveries attempted now, not on schedule. */
describe('retry-pending (Hookflow extension)', () => {
  let stack: Stack;
  let receiver: Receiver;
  let appId: string;

  beforeAll(async () => {
    // The next attempt after a failure is five minutes away: only the signal brings it sooner.
    stack = await startStack({ HOOKFLOW_RETRY_SCHEDULE: '300' });
    receiver = await new Receiver().listen();
    appId = await seedApp(stack.services);
  });
  afterAll(async () => {
    await receiver?.close();
    await stack?.close();
  });

  const retry = (ep: string, token?: string) =>
    stack.call('POST', `/api/v1/app/${appId}/endpoint/${ep}/retry-pending`, undefined, token);

  it('attempts a delivery waiting for its next attempt at once', async () => {
    const ep = await seedEndpoint(stack.services, appId, { url: receiver.url() });
    receiver.secrets = [ep.secret];
    receiver.behaviour = (_req, n) => ({ status: n === 1 ? 500 : 200 });
    const sent = await stack.call('POST', `/api/v1/app/${appId}/msg`, {
      eventType: 'invoice.paid',
      payload: { n: 1 },
    });
    const destination = async () =>
      (await stack.call('GET', `/api/v1/app/${appId}/msg/${sent.body.id}/endpoint`)).body.data[0];
    await eventually(
      async () => (await destination())?.statusText === 'pending' && receiver.countById(sent.body.id) === 1,
      'the first attempt to have failed',
    );

    const res = await retry(ep.id);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ pending: 1, signalled: 1 });
    await eventually(async () => (await destination())?.statusText === 'success', 'the retried delivery');
    expect(receiver.received.map((r) => [r.answered, r.verified])).toEqual([
      [500, true],
      [200, true],
    ]);

    // Nothing pending any more: nothing to signal.
    expect((await retry(ep.id)).body).toEqual({ pending: 0, signalled: 0 });
  });

  it('is for the admin token only, and refuses a disabled or unknown endpoint', async () => {
    const ep = await seedEndpoint(stack.services, appId, { url: receiver.url(), disabled: true });
    const appToken = await stack.services.tokens.issueAppToken(appId);
    expect((await retry(ep.id, appToken)).status).toBe(403);
    const disabled = await retry(ep.id);
    expect(disabled.status).toBe(409);
    expect(disabled.body.detail).toBe(`Endpoint ${ep.id} is disabled: enable it before retrying to it`);
    expect((await retry('ep_nope')).status).toBe(404);
  });

  it('is in the OpenAPI document', async () => {
    const doc = (await stack.call('GET', '/api/v1/openapi.json')).body;
    const op = doc.paths['/api/v1/app/{app}/endpoint/{endpoint}/retry-pending'].post;
    expect(op.operationId).toBe('v1.endpoint.retry-pending');
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['200', '404', '409', '503']));
  });
});
