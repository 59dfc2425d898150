import { startStack } from './harness/stack';
import { Receiver } from './harness/receiver';
import { seedApp, seedEndpoint } from './harness/seed';
import { auditDelivered } from './harness/audit';

/**
 * throttleRate is enforced, not only stored: send slots are reserved in PostgreSQL, so
 * across all workers an endpoint gets at most that many requests in any one second, however
 * long the backlog (a delivery waits for its slot on a durable timer). A slow machine only
 * spreads the requests further apart; it cannot make this fail.
 */
describe('throttleRate', () => {
  it('sends at most throttleRate requests per second to the endpoint', async () => {
    const stack = await startStack({ HOOKFLOW_WORKER_CONCURRENCY: '50' });
    const receiver = await new Receiver().listen();
    try {
      const appId = await seedApp(stack.services);
      // A backlog of 14 s at 1 per second: longer than any wait inside one attempt could be.
      await seedEndpoint(stack.services, appId, { url: receiver.url('/slow-lane'), throttleRate: 1 });
      const ids: string[] = [];
      await Promise.all(
        Array.from({ length: 14 }, async (_, i) => {
          const res = await stack.call('POST', `/api/v1/app/${appId}/msg`, {
            eventType: 'a.b',
            payload: { i },
          });
          ids.push(res.body.id);
        }),
      );
      const { duplicates } = await auditDelivered(receiver, ids, ['/slow-lane']);
      expect(duplicates).toBe(0);
      const times = receiver.received.map((r) => r.at).sort((a, b) => a - b);
      const busiest = Math.max(...times.map((t) => times.filter((u) => u >= t && u < t + 1000).length));
      // One more than the rate: a request arriving late can meet the next slot's on-time one.
      expect(busiest).toBeLessThanOrEqual(1 + 1);
    } finally {
      await stack.close();
      await receiver.close();
    }
  });
});
