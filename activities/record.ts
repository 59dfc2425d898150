import { newId } from '../src/ids';
import { MessageStatus } from '../src/db/entities';
import { metrics } from '../src/metrics';
import type { Decision } from '../src/domain/outcome';
import type { Trigger } from '../workflows/definitions';
import type { ActivityDeps } from './deps';
import { pgQuery } from '../src/db/pg';
import type { RecordResult, SendOutcome } from '../workflows/definitions';

export interface RecordInput {
  appId: string;
  msgId: string;
  endpointId: string;
  eventType: string;
  trigger: Trigger;
  workflowId: string;
  attemptNumber: number;
  sent: Extract<SendOutcome, { kind: 'sent' | 'failed' | 'misconfigured' }>;
  decision: Decision;
}

export type { RecordResult };

/**
 * The row a delivery's state lives in: the scheduled delivery of a message to an endpoint
 * (its replays included), or a manual resend of its own (migration 20261201000000).
 */
export const DELIVERY_KEY = {
  scheduled: `(msg_id, endpoint_id) where trigger <> 'manual'`,
  manual: `(workflow_id) where trigger = 'manual'`,
} as const;

/**
 * Writes one attempt and the delivery's state in one statement. Keyed by (workflow id,
 * attempt number): a retry of this step, or of the whole workflow task after a worker died,
 * finds the row already there and writes nothing, so the log shows each attempt once
 * however often the POST went out.
 */
export function makeRecord({ orm, log }: ActivityDeps) {
  const db = () => orm.em.getConnection();
  return async function recordAttempt(input: RecordInput): Promise<RecordResult> {
    const { sent, decision } = input;
    const at = new Date(sent.at);
    const statusCode = sent.kind === 'sent' ? sent.statusCode : 0;
    const response = sent.kind === 'sent' ? sent.response : sent.error;
    const errorKind =
      sent.kind === 'sent' ? null : sent.kind === 'misconfigured' ? 'configuration' : sent.errorKind;
    const nextAttemptAt =
      decision.waitSeconds === null ? null : new Date(Date.now() + decision.waitSeconds * 1000);
    const manual = input.trigger === 'manual';
    // Once per attempt: a prepared statement past the ORM's query layers (src/db/pg.ts).
    const rows = await pgQuery<{ attempt_id: string | null; ended_streak: boolean }>(orm, {
      name: manual ? 'attempt_record_manual' : 'attempt_record',
      text: `with attempt as (
         insert into attempts (id, msg_id, endpoint_id, app_id, url, status, response_status_code, response,
                               response_truncated, response_duration_ms, trigger_type, attempt_number, workflow_id,
                               error_kind, timestamp)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
         on conflict (workflow_id, attempt_number) where workflow_id is not null do nothing
         returning id
       ), delivery as (
         insert into deliveries (msg_id, endpoint_id, app_id, event_type, state, dispatched_at, workflow_id, attempt_count,
                                 last_attempt_at, next_attempt_at, last_status_code, trigger)
         select $16, $17, $18, $19, $20, now(), $21, 1, $22, $23, $24, $25 where exists (select 1 from attempt)
         on conflict ${DELIVERY_KEY[manual ? 'manual' : 'scheduled']} do update set
           state = excluded.state, attempt_count = deliveries.attempt_count + 1, last_attempt_at = excluded.last_attempt_at,
           next_attempt_at = excluded.next_attempt_at, last_status_code = excluded.last_status_code,
           workflow_id = excluded.workflow_id, dispatched_at = coalesce(deliveries.dispatched_at, now()), updated_at = now()
       ), recovered as (
         update endpoints set failing_since = null
          where id = $26 and $27::boolean and failing_since is not null and exists (select 1 from attempt)
         returning id
       )
       select (select id from attempt) as attempt_id, exists (select 1 from recovered) as ended_streak`,
      values: [
        newId('atmpt'),
        input.msgId,
        input.endpointId,
        input.appId,
        sent.url,
        decision.outcome === 'success' ? MessageStatus.Success : MessageStatus.Fail,
        statusCode,
        response,
        sent.kind === 'sent' && sent.responseTruncated,
        sent.kind === 'misconfigured' ? 0 : sent.durationMs,
        input.trigger === 'manual' ? 1 : 0,
        input.attemptNumber,
        input.workflowId,
        errorKind,
        at,
        input.msgId,
        input.endpointId,
        input.appId,
        input.eventType,
        decision.state,
        input.workflowId,
        at,
        nextAttemptAt,
        statusCode || null,
        input.trigger === 'manual' ? 'manual' : 'scheduled',
        input.endpointId,
        decision.outcome === 'success',
      ],
    });
    const row = rows[0];
    if (row?.attempt_id) {
      // Counted once, by the call that wrote the row.
      metrics.attemptDuration.observe(
        { outcome: decision.outcome },
        (sent.kind === 'misconfigured' ? 0 : sent.durationMs) / 1000,
      );
      if (decision.state !== 'pending') metrics.deliveries.inc({ outcome: decision.state });
      // Ids and codes only: never the payload, the URL (it may carry a token) or headers.
      const logged = {
        msgId: input.msgId,
        endpointId: input.endpointId,
        workflowId: input.workflowId,
        attemptNumber: input.attemptNumber,
        outcome: decision.outcome,
        statusCode,
      };
      if (decision.outcome === 'success') log.debug(logged, 'attempt succeeded');
      else
        log.warn(
          { ...logged, errorKind: errorKind ?? `http_${statusCode}`, final: decision.waitSeconds === null },
          'attempt failed',
        );
      return { attemptId: row.attempt_id, endedFailingStreak: row.ended_streak };
    }
    const existing: Array<{ id: string }> = await db().execute(
      'select id from attempts where workflow_id = ? and attempt_number = ?',
      [input.workflowId, input.attemptNumber],
    );
    return { attemptId: existing[0]!.id, endedFailingStreak: false };
  };
}
