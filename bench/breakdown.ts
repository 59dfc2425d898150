import { openOrm } from '../src/db/orm';
import { latencyOf, type Latency } from './util';

export interface Breakdown {
  storedToDispatched: Latency;
  storedToAttempt: Latency;
  httpMs: Latency;
  /** DeliverMessage starts of the Hookflow process so far (warm-up included), from its /metrics. */
  starts?: { eager: number; plain: number };
}

/** Eager and plain starts counted by `hookflow_delivery_workflow_starts_total`. */
export async function startsOf(apiUrl: string, token: string): Promise<Breakdown['starts']> {
  const res = await fetch(`${apiUrl}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) return undefined;
  const text = await res.text();
  const count = (eager: boolean) =>
    Number(
      new RegExp(`^hookflow_delivery_workflow_starts_total\\{eager="${eager}"\\} (\\S+)$`, 'm').exec(
        text,
      )?.[1] ?? 0,
    );
  return { eager: count(true), plain: count(false) };
}

/**
 * Where the time of one delivery goes, from the rows Hookflow writes: the message's
 * created_at (stored), the delivery's dispatched_at (workflow start acknowledged, or the
 * first attempt if that came first) and the attempt's timestamp (after the HTTP call).
 */
export async function breakdown(databaseUrl: string, appId: string): Promise<Breakdown> {
  const orm = await openOrm(databaseUrl, 1);
  try {
    const rows: Array<{ d: number; a: number; h: number }> = await orm.em.getConnection().execute(
      `select extract(epoch from (d.dispatched_at - m.created_at)) * 1000 as d,
              extract(epoch from (a.timestamp - m.created_at)) * 1000 as a,
              a.response_duration_ms as h
         from messages m
         join deliveries d on d.msg_id = m.id
         join attempts a on a.msg_id = m.id and a.endpoint_id = d.endpoint_id and a.attempt_number = 1
        where m.app_id = ?`,
      [appId],
    );
    return {
      storedToDispatched: latencyOf(rows.map((r) => Number(r.d))),
      storedToAttempt: latencyOf(rows.map((r) => Number(r.a))),
      httpMs: latencyOf(rows.map((r) => Number(r.h))),
    };
  } finally {
    await orm.close();
  }
}
