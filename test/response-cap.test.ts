import { startStack, type Stack } from './harness/stack';
import { Receiver } from './harness/receiver';
import { seedApp, seedEndpoint } from './harness/seed';
import { eventually } from './harness/wait';

/** HOOKFLOW_MAX_RESPONSE_BYTES caps the response body each attempt keeps (issue 15). */
describe('response cap', () => {
  let stack: Stack;
  let receiver: Receiver;

  beforeAll(async () => {
    stack = await startStack({ HOOKFLOW_MAX_RESPONSE_BYTES: '100' });
    receiver = await new Receiver().listen();
    receiver.behaviour = (r) => ({ status: 200, body: r.path === '/long' ? 'x'.repeat(500) : 'short' });
  });
  afterAll(async () => {
    await stack?.close();
    await receiver?.close();
  });

  it('keeps the first HOOKFLOW_MAX_RESPONSE_BYTES of a response and says it was cut', async () => {
    const appId = await seedApp(stack.services);
    await seedEndpoint(stack.services, appId, { url: receiver.url('/long'), eventTypes: ['long'] });
    await seedEndpoint(stack.services, appId, { url: receiver.url('/short'), eventTypes: ['short'] });
    const sent: Record<string, string> = {};
    for (const eventType of ['long', 'short']) {
      const res = await stack.call('POST', `/api/v1/app/${appId}/msg`, { eventType, payload: {} });
      expect(res.status).toBe(202);
      sent[eventType] = res.body.id;
    }
    const attemptOf = (msgId: string) =>
      eventually(async () => {
        const res = await stack.call('GET', `/api/v1/app/${appId}/attempt/msg/${msgId}`);
        return res.body.data?.[0] ?? null;
      }, `the attempt of ${msgId}`);
    const long = await attemptOf(sent.long);
    expect(long.response).toBe('x'.repeat(100));
    expect(long.responseTruncated).toBe(true);
    const short = await attemptOf(sent.short);
    expect(short.response).toBe('short');
    expect(short.responseTruncated).toBe(false);
  });
});
