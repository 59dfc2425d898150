import type { Receiver } from './receiver';
import { eventually } from './wait';

/**
 * The audit that ends every fault test: every accepted message reached every endpoint it
 * was routed to (receivers count by webhook-id and path). Duplicates are returned, not
 * hidden: a test decides whether its fault made them unavoidable.
 */
export async function auditDelivered(
  receiver: Receiver,
  msgIds: string[],
  paths: string[],
  opts: { timeoutMs?: number } = {},
): Promise<{ duplicates: number }> {
  const key = (id: string, path: string) => `${id} ${path}`;
  const counts = () => {
    const m = new Map<string, number>();
    for (const r of receiver.received)
      if (r.answered !== undefined && r.answered >= 200 && r.answered < 300)
        m.set(key(r.id, r.path), (m.get(key(r.id, r.path)) ?? 0) + 1);
    return m;
  };
  const missing = () => {
    const c = counts();
    return msgIds.flatMap((id) => paths.filter((p) => !c.get(key(id, p))).map((p) => key(id, p)));
  };
  await eventually(() => missing().length === 0, `every message at every endpoint`, {
    timeoutMs: opts.timeoutMs ?? 180_000,
    intervalMs: 250,
  }).catch((err) => {
    const left = missing();
    throw new Error(`${err.message}; ${left.length} missing, e.g. ${left.slice(0, 3).join(', ')}`);
  });
  let duplicates = 0;
  for (const n of counts().values()) duplicates += Math.max(0, n - 1);
  return { duplicates };
}
