import { idAt } from '../ids';
import { ENDPOINT_MATCHES_MESSAGE_SQL } from './routing';

/**
 * The date-range queries behind recover, replay-missing and bulk replay. A window is
 * over message ids (time-sortable), so "messages created in the window" is a keyset range.
 *
 * - `failed`: deliveries whose last state is failed (no success since).
 * - `missing`: messages the endpoint's CURRENT filters match but with no deliveries row
 *   (endpoint created later, filters changed, application webhooks switched off).
 * - `all`: every finished delivery (success, failed, cancelled) plus the missing ones.
 *   Deliveries still pending or sending are left to their own workflow, so a bulk replay
 *   never races a live retry schedule.
 * Disabled endpoints and messages whose payload was pruned never match: they cannot be sent.
 */
export type ReplayStatus = 'failed' | 'missing' | 'all';

export interface ReplayQuery {
  appId: string;
  /** ISO timestamps; `until` is exclusive. */
  since: string;
  until: string;
  status: ReplayStatus;
  endpointIds?: string[] | null;
  eventTypes?: string[] | null;
}

/** A position in the (msgId, endpointId) order; pages continue strictly after it. */
export interface ReplayCursor {
  msgId: string;
  endpointId: string;
}

export interface ReplayRow {
  msgId: string;
  endpointId: string;
  eventType: string;
  /** No deliveries row yet: one is inserted when the replay starts it. */
  missing: boolean;
}

export const MAX_WINDOW_DAYS = 90;

interface Sql {
  text: string;
  args: unknown[];
}

function windowAndFilters(
  q: ReplayQuery,
  msgCol: string,
  epCol: string,
  typeCol: string,
  cursor: ReplayCursor | null,
): Sql {
  const parts = [`${msgCol} >= ?`, `${msgCol} < ?`];
  const args: unknown[] = [idAt('msg', new Date(q.since)), idAt('msg', new Date(q.until))];
  if (q.endpointIds?.length) {
    parts.push(`${epCol} in (?)`);
    args.push(q.endpointIds);
  }
  if (q.eventTypes?.length) {
    parts.push(`${typeCol} in (?)`);
    args.push(q.eventTypes);
  }
  if (cursor) {
    parts.push(`(${msgCol}, ${epCol}) > (?, ?)`);
    args.push(cursor.msgId, cursor.endpointId);
  }
  return { text: parts.join(' and '), args };
}

function deliveredPart(q: ReplayQuery, cursor: ReplayCursor | null): Sql {
  const w = windowAndFilters(q, 'd.msg_id', 'd.endpoint_id', 'd.event_type', cursor);
  const states =
    q.status === 'failed' ? `d.state = 'failed'` : `d.state in ('success', 'failed', 'cancelled')`;
  return {
    text: `select d.msg_id, d.endpoint_id, d.event_type, false as missing
             from deliveries d
             join endpoints e on e.id = d.endpoint_id and not e.disabled
             join message_content c on c.msg_id = d.msg_id
            where d.app_id = ? and d.trigger <> 'manual' and ${states} and ${w.text}`,
    args: [q.appId, ...w.args],
  };
}

function missingPart(q: ReplayQuery, cursor: ReplayCursor | null): Sql {
  const w = windowAndFilters(q, 'm.id', 'e.id', 'm.event_type', cursor);
  return {
    text: `select m.id as msg_id, e.id as endpoint_id, m.event_type, true as missing
             from messages m
             join endpoints e on e.app_id = m.app_id
            where m.app_id = ? and exists (select 1 from message_content c where c.msg_id = m.id) and ${w.text}
              and ${ENDPOINT_MATCHES_MESSAGE_SQL}
              and not exists (select 1 from deliveries d where d.msg_id = m.id and d.endpoint_id = e.id)`,
    args: [q.appId, ...w.args],
  };
}

function parts(q: ReplayQuery, cursor: ReplayCursor | null): Sql[] {
  if (q.status === 'failed') return [deliveredPart(q, cursor)];
  if (q.status === 'missing') return [missingPart(q, cursor)];
  return [deliveredPart(q, cursor), missingPart(q, cursor)];
}

/** The next page after `cursor`, in (msgId, endpointId) order. */
export function replayPageSql(q: ReplayQuery, cursor: ReplayCursor | null, limit: number): Sql {
  // Each branch is limited on its own, so PostgreSQL walks its index only as far as needed.
  const ps = parts(q, cursor);
  const text = ps.map((p) => `(${p.text} order by 1, 2 limit ${Number(limit)})`).join(' union all ');
  return {
    text: `select * from (${text}) x order by msg_id, endpoint_id limit ?`,
    args: [...ps.flatMap((p) => p.args), limit],
  };
}

export function replayCountSql(q: ReplayQuery): Sql {
  const ps = parts(q, null);
  return {
    text: `select ${ps.map((p) => `(select count(*) from (${p.text}) c)`).join(' + ')} as total`,
    args: ps.flatMap((p) => p.args),
  };
}

export interface Executor {
  execute(sql: string, args: unknown[]): Promise<any>;
}

export async function replayPage(
  db: Executor,
  q: ReplayQuery,
  cursor: ReplayCursor | null,
  limit: number,
): Promise<ReplayRow[]> {
  const { text, args } = replayPageSql(q, cursor, limit);
  const rows: Array<{ msg_id: string; endpoint_id: string; event_type: string; missing: boolean }> =
    await db.execute(text, args);
  return rows.map((r) => ({
    msgId: r.msg_id,
    endpointId: r.endpoint_id,
    eventType: r.event_type,
    missing: r.missing,
  }));
}

export async function replayCount(db: Executor, q: ReplayQuery): Promise<number> {
  const { text, args } = replayCountSql(q);
  const rows: Array<{ total: string | number }> = await db.execute(text, args);
  return Number(rows[0]?.total ?? 0);
}

/** Deliveries started by one replay have ids derived from it, so a restarted page never sends twice. */
export function replayDeliveryId(taskId: string, msgId: string, endpointId: string): string {
  return `replay-${taskId}-${msgId}-${endpointId}`;
}

export function replayWorkflowId(taskId: string): string {
  return `replay-${taskId}`;
}

/** Why a window is refused, or null; `loc` is the field to name in the 422. */
export function checkWindow(
  since: Date,
  until: Date,
  now = new Date(),
): { field: 'since' | 'until'; msg: string } | null {
  // A little clock skew between client and server is tolerated for "now".
  const skewMs = 60_000;
  if (since.getTime() > now.getTime() + skewMs) return { field: 'since', msg: 'must not be in the future' };
  if (until.getTime() > now.getTime() + skewMs) return { field: 'until', msg: 'must not be in the future' };
  if (since.getTime() >= until.getTime()) return { field: 'until', msg: 'must be after since' };
  if (until.getTime() - since.getTime() > MAX_WINDOW_DAYS * 86_400_000) {
    return { field: 'since', msg: `window must be at most ${MAX_WINDOW_DAYS} days` };
  }
  return null;
}
