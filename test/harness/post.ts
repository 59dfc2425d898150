import type { Stack } from './stack';

/** Posts `n` messages to an application, `concurrency` at a time; each must be accepted (202). Their ids, in answer order. */
export async function postMany(stack: Stack, appId: string, n: number, concurrency = 16): Promise<string[]> {
  const ids: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        const res = await stack.call('POST', `/api/v1/app/${appId}/msg`, {
          eventType: 'burst.item',
          payload: { i },
        });
        expect(res.status).toBe(202);
        ids.push(res.body.id);
      }
    }),
  );
  return ids;
}
