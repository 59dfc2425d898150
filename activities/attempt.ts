import { setTimeout as sleep } from 'node:timers/promises';
import { newId } from '../src/ids';
import { MessageStatus, type PreviousSecret } from '../src/db/entities';
import { renderTemplate } from '../src/domain/template';
import { signedHeaders } from '../src/domain/signing';
import type { AttemptOutcome, AttemptSummary, DeliverMessageInput } from '../workflows/definitions';
import { BlockedAddressError, isTimeout, type SendResult } from './http-client';
import type { ActivityDeps } from './deps';
import { metrics } from '../src/metrics';

export interface AttemptInput extends DeliverMessageInput {
  attemptNumber: number;
  workflowId: string;
  /** The jittered delay before the next attempt; null when this is the last one. */
  nextDelaySeconds: number | null;
}

export interface AttemptResult {
  summary: AttemptSummary;
  /** Seconds to wait before the next attempt; null when none will follow. */
  waitSeconds: number | null;
}

interface Row {
  /** The payload's exact text (message_content); null once pruned. */
  payload: string | null;
  event_id: string | null;
  event_type: string;
  ep_id: string | null;
  url: string;
  disabled: boolean;
  secret_enc: string;
  previous_secrets: PreviousSecret[];
  headers: Record<string, string>;
  sensitive_headers_enc: string | null;
  bearer_token_enc: string | null;
  method: string;
  payload_template: string | null;
  throttle_rate: number | null;
}

const MIN_THROTTLED_WAIT = 60;

/** 429 and timeouts wait at least a minute; Retry-After is honoured within [delay, 2×delay]. */
export function waitFor(
  outcome: AttemptOutcome,
  base: number | null,
  retryAfter: number | null,
): number | null {
  if (base === null) return null;
  let delay = outcome === 'throttled' ? Math.max(base, MIN_THROTTLED_WAIT) : base;
  if (retryAfter !== null && Number.isFinite(retryAfter))
    delay = Math.min(Math.max(retryAfter, delay), 2 * delay);
  return Math.round(delay * 1000) / 1000;
}

export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | null {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return null;
  if (/^\d+$/.test(v.trim())) return Number(v.trim());
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, (at - now) / 1000);
}

export function classify(statusCode: number): AttemptOutcome {
  if (statusCode >= 200 && statusCode < 300) return 'success';
  if (statusCode === 410) return 'gone';
  if (statusCode === 429) return 'throttled';
  return 'failure';
}

export function makeAttempt(deps: ActivityDeps) {
  const { orm, http, box, config } = deps;
  const db = () => orm.em.getConnection();

  async function load(input: AttemptInput): Promise<Row | null> {
    const rows: Row[] = await db().execute(
      `select c.payload, m.event_id, m.event_type, e.id as ep_id, e.url, e.disabled, e.secret_enc, e.previous_secrets,
              e.headers, e.sensitive_headers_enc, e.bearer_token_enc, e.method, e.payload_template, e.throttle_rate
         from messages m left join message_content c on c.msg_id = m.id
         left join endpoints e on e.id = ? and e.app_id = m.app_id
        where m.id = ?`,
      [input.endpointId, input.msgId],
    );
    return rows[0] ?? null;
  }

  /** Reserves the next send slot of a throttled endpoint, shared by all workers through PostgreSQL. */
  async function throttle(endpointId: string, rate: number): Promise<void> {
    const rows: Array<{ wait_ms: number }> = await db().execute(
      `update endpoints
          set throttle_next_at = greatest(coalesce(throttle_next_at, clock_timestamp()), clock_timestamp()) + (1.0 / throttle_rate) * interval '1 second'
        where id = ?
        returning greatest(0, extract(epoch from (throttle_next_at - clock_timestamp())) * 1000 - 1000.0 / throttle_rate) as wait_ms`,
      [endpointId],
    );
    const wait = Number(rows[0]?.wait_ms ?? 0);
    // Bounded so the attempt stays within its timeout; a longer queue spreads out over the retries.
    if (wait > 0) await sleep(Math.min(wait, 10_000));
    void rate;
  }

  function secretsOf(row: Row): string[] {
    const now = Date.now();
    const current = box.open(row.secret_enc);
    const previous = (row.previous_secrets ?? [])
      .filter((p) => Date.parse(p.expiresAt) > now)
      .map((p) => box.open(p.secretEnc));
    return [current, ...previous];
  }

  function requestHeaders(row: Row, input: AttemptInput, body: string): Record<string, string> {
    const timestamp = Math.floor(Date.now() / 1000);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'Hookflow/1.0 (+webhooks)',
      ...row.headers,
    };
    if (row.sensitive_headers_enc) Object.assign(headers, JSON.parse(box.open(row.sensitive_headers_enc)));
    if (row.bearer_token_enc) headers.authorization = `Bearer ${box.open(row.bearer_token_enc)}`;
    Object.assign(headers, signedHeaders(secretsOf(row), input.msgId, timestamp, body));
    return headers;
  }

  return async function attempt(input: AttemptInput): Promise<AttemptResult> {
    const row = await load(input);
    if (!row || !row.payload || !row.ep_id || row.disabled) {
      await deps.settle(input.msgId, input.endpointId, 'cancelled');
      deps.log.debug(
        {
          msgId: input.msgId,
          endpointId: input.endpointId,
          workflowId: input.workflowId,
          attemptNumber: input.attemptNumber,
        },
        'delivery cancelled before sending',
      );
      return {
        summary: {
          attemptId: null,
          attemptNumber: input.attemptNumber,
          outcome: 'cancelled',
          statusCode: 0,
          durationMs: 0,
          at: new Date().toISOString(),
          error: !row
            ? 'message not found'
            : !row.payload
              ? 'payload pruned'
              : 'endpoint disabled or deleted',
        },
        waitSeconds: null,
      };
    }
    if (row.throttle_rate) await throttle(input.endpointId, row.throttle_rate);

    const body = row.payload_template
      ? renderTemplate(row.payload_template, {
          event: row.event_type,
          timestamp: Math.floor(Date.now() / 1000),
          msgId: input.msgId,
          eventId: row.event_id,
          endpointId: input.endpointId,
          payload: JSON.parse(row.payload),
        })
      : row.payload; // the exact text received, signed and sent as is

    let result: SendResult | null = null;
    let outcome: AttemptOutcome;
    let error: string | undefined;
    let errorKind: string | null = null;
    const started = performance.now();
    try {
      if (config.HOOKFLOW_HTTPS_ONLY && !row.url.startsWith('https:'))
        throw new Error('HTTPS only: endpoint URL is not https');
      result = await http.send(row.url, {
        method: row.method,
        headers: requestHeaders(row, input, body),
        body,
      });
      outcome = classify(result.statusCode);
    } catch (err) {
      const cause = (err as { cause?: unknown }).cause ?? err;
      if (err instanceof BlockedAddressError || cause instanceof BlockedAddressError) {
        outcome = 'failure';
        errorKind = 'blocked';
        error = (cause as Error).message;
      } else if (isTimeout(err) || isTimeout(cause)) {
        outcome = 'throttled';
        errorKind = 'timeout';
        error = `Timed out after ${config.HOOKFLOW_HTTP_TIMEOUT_MS} ms`;
      } else {
        outcome = 'failure';
        errorKind = (cause as { code?: string }).code ?? 'network';
        error = (cause as Error).message || String(cause);
      }
    }
    const durationMs = result?.durationMs ?? Math.round(performance.now() - started);
    const statusCode = result?.statusCode ?? 0;
    const waitSeconds =
      outcome === 'success' || outcome === 'gone'
        ? null
        : waitFor(outcome, input.nextDelaySeconds, parseRetryAfter(result?.headers['retry-after']));

    const attemptId = newId('atmpt');
    const now = new Date();
    const state =
      outcome === 'success'
        ? 'success'
        : outcome === 'gone'
          ? 'failed'
          : waitSeconds === null
            ? 'failed'
            : 'pending';
    // One statement (one round trip, one commit): the attempt row, the delivery's state and,
    // on success, the end of the endpoint's failing streak.
    const written: Array<{ was_failing: boolean }> = await db().execute(
      `with attempt as (
         insert into attempts (id, msg_id, endpoint_id, app_id, url, status, response_status_code, response,
                               response_duration_ms, trigger_type, attempt_number, workflow_id, error_kind, timestamp)
         values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ), delivery as (
         insert into deliveries (msg_id, endpoint_id, app_id, event_type, state, dispatched_at, workflow_id, attempt_count,
                                 last_attempt_at, next_attempt_at, last_status_code)
         values (?, ?, ?, ?, ?, now(), ?, 1, ?, ?, ?)
         on conflict (msg_id, endpoint_id) do update set
           state = excluded.state, attempt_count = deliveries.attempt_count + 1, last_attempt_at = excluded.last_attempt_at,
           next_attempt_at = excluded.next_attempt_at, last_status_code = excluded.last_status_code,
           workflow_id = excluded.workflow_id, dispatched_at = coalesce(deliveries.dispatched_at, now()), updated_at = now()
       ), recovered as (
         update endpoints set failing_since = null
          where id = ? and ? and failing_since is not null
         returning id
       )
       select exists (select 1 from recovered) as was_failing`,
      [
        attemptId,
        input.msgId,
        input.endpointId,
        input.appId,
        row.url,
        outcome === 'success' ? MessageStatus.Success : MessageStatus.Fail,
        statusCode,
        result ? result.body : (error ?? ''),
        durationMs,
        input.trigger === 'manual' ? 1 : 0,
        input.attemptNumber,
        input.workflowId,
        errorKind,
        now,
        input.msgId,
        input.endpointId,
        input.appId,
        input.eventType,
        state,
        input.workflowId,
        now,
        waitSeconds === null ? null : new Date(now.getTime() + waitSeconds * 1000),
        statusCode || null,
        input.endpointId,
        outcome === 'success',
      ],
    );
    metrics.attemptDuration.observe({ outcome }, durationMs / 1000);
    if (state !== 'pending') metrics.deliveries.inc({ outcome: state });
    // Ids and codes only: never the payload, the URL (it may carry a token) or headers.
    const logged = {
      msgId: input.msgId,
      endpointId: input.endpointId,
      workflowId: input.workflowId,
      attemptNumber: input.attemptNumber,
      outcome,
      statusCode,
      durationMs,
    };
    if (outcome === 'success') deps.log.debug(logged, 'attempt succeeded');
    else
      deps.log.warn(
        { ...logged, errorKind: errorKind ?? `http_${statusCode}`, final: waitSeconds === null },
        'attempt failed',
      );

    if (outcome === 'gone')
      await deps.lifecycle.disableEndpoint(input.appId, input.endpointId, 'Endpoint answered 410 Gone');
    else if (outcome === 'success') {
      if (written[0]?.was_failing) await deps.lifecycle.recovered(input);
    } else await deps.lifecycle.failed(input, input.attemptNumber, waitSeconds === null);

    return {
      summary: {
        attemptId,
        attemptNumber: input.attemptNumber,
        outcome,
        statusCode,
        durationMs,
        at: now.toISOString(),
        ...(error ? { error } : {}),
      },
      waitSeconds,
    };
  };
}
