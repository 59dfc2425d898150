import { setTimeout as sleep } from 'node:timers/promises';
import type { PreviousSecret } from '../src/db/entities';
import { renderTemplate } from '../src/domain/template';
import { signedHeaders } from '../src/domain/signing';
import { parseRetryAfter } from '../src/domain/outcome';
import { BlockedAddressError, isTimeout } from './http-client';
import type { ActivityDeps } from './deps';
import type { SendOutcome } from '../workflows/definitions';
import { pgQuery } from '../src/db/pg';

export interface SendInput {
  appId: string;
  msgId: string;
  endpointId: string;
  workflowId: string;
  attemptNumber: number;
  /** The endpoint's throttle slot was reserved by an earlier call that asked to wait for it. */
  slotReserved?: boolean;
}

export type { SendOutcome };

interface Row {
  /** The payload's exact text (message_content); null once pruned. */
  payload: string | null;
  /** A raw payload (`transformationsParams.rawPayload`): sent as is, never through a template. */
  raw: boolean | null;
  /** The message's `content-type`; null: application/json. */
  content_type: string | null;
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

/** Opened secrets kept in memory, oldest dropped first. */
const OPENED_SECRETS_KEPT = 1000;

/** Waits this short are slept inside the step; longer ones become a durable timer. */
const MAX_INLINE_THROTTLE_WAIT_MS = 1000;

class ConfigurationError extends Error {}

/** Load, render, sign, POST: the part of an attempt that talks to the endpoint. */
export function makeSend({ orm, http, box, config }: ActivityDeps) {
  const db = () => orm.em.getConnection();

  /** Once per attempt: a prepared statement past the ORM's query layers (src/db/pg.ts). */
  async function load(input: SendInput): Promise<Row | null> {
    const rows = await pgQuery<Row>(orm, {
      name: 'attempt_load',
      text: `select c.payload, c.raw, c.content_type, m.event_id, m.event_type, e.id as ep_id, e.url, e.disabled, e.secret_enc, e.previous_secrets,
                    e.headers, e.sensitive_headers_enc, e.bearer_token_enc, e.method, e.payload_template, e.throttle_rate
               from messages m left join message_content c on c.msg_id = m.id
               left join endpoints e on e.id = $1 and e.app_id = m.app_id
              where m.id = $2`,
      values: [input.endpointId, input.msgId],
    });
    return rows[0] ?? null;
  }

  /**
   * Reserves the endpoint's next send slot, shared by all workers through PostgreSQL, and
   * returns how long until it comes. The endpoint never gets more than its rate.
   */
  async function reserveSlot(endpointId: string): Promise<number> {
    const rows: Array<{ wait_ms: number }> = await db().execute(
      `update endpoints
          set throttle_next_at = greatest(coalesce(throttle_next_at, clock_timestamp()), clock_timestamp()) + (1.0 / throttle_rate) * interval '1 second'
        where id = ?
        returning greatest(0, extract(epoch from (throttle_next_at - clock_timestamp())) * 1000 - 1000.0 / throttle_rate) as wait_ms`,
      [endpointId],
    );
    return Math.ceil(Number(rows[0]?.wait_ms ?? 0));
  }

  /**
   * Opened secrets by their sealed text, so a busy endpoint's secret is decrypted once rather
   * than at every attempt (AES-GCM set-up was the largest cost of signing). A sealed text
   * always opens to the same secret (a rotation seals a new one), so nothing here goes stale.
   */
  const opened = new Map<string, string>();

  function open(sealed: string, what: string): string {
    const known = opened.get(sealed);
    if (known !== undefined) return known;
    let plain: string;
    try {
      plain = box.open(sealed);
    } catch {
      throw new ConfigurationError(`The ${what} cannot be decrypted with HOOKFLOW_SECRET_KEY`);
    }
    if (opened.size >= OPENED_SECRETS_KEPT) opened.delete(opened.keys().next().value!);
    opened.set(sealed, plain);
    return plain;
  }

  function requestHeaders(row: Row, input: SendInput, body: string): Record<string, string> {
    const now = Date.now();
    const secrets = [
      open(row.secret_enc, 'endpoint signing secret'),
      ...(row.previous_secrets ?? [])
        .filter((p) => Date.parse(p.expiresAt) > now)
        .map((p) => open(p.secretEnc, 'previous signing secret')),
    ];
    const headers: Record<string, string> = {
      // The header is reserved for endpoints (src/domain/headers.ts): the message decides it.
      'content-type': row.content_type ?? 'application/json',
      'user-agent': 'Hookflow/1.0 (+webhooks)',
      ...row.headers,
    };
    if (row.sensitive_headers_enc)
      Object.assign(headers, JSON.parse(open(row.sensitive_headers_enc, 'sensitive headers')));
    if (row.bearer_token_enc) headers.authorization = `Bearer ${open(row.bearer_token_enc, 'bearer token')}`;
    Object.assign(headers, signedHeaders(secrets, input.msgId, Math.floor(now / 1000), body));
    return headers;
  }

  function render(row: Row, input: SendInput): string {
    // Without a template, the exact text received is signed and sent; a raw payload is
    // always sent as is (what Svix's SDKs promise for it), so a template never applies.
    if (!row.payload_template || row.raw) return row.payload!;
    try {
      return renderTemplate(row.payload_template, {
        event: row.event_type,
        timestamp: Math.floor(Date.now() / 1000),
        msgId: input.msgId,
        eventId: row.event_id,
        endpointId: input.endpointId,
        payload: JSON.parse(row.payload!) as Record<string, unknown>,
      });
    } catch (err) {
      throw new ConfigurationError(`The payload template failed to render: ${(err as Error).message}`);
    }
  }

  return async function send(input: SendInput): Promise<SendOutcome> {
    const row = await load(input);
    if (!row || !row.payload || !row.ep_id || row.disabled) {
      const reason = !row
        ? 'message not found'
        : !row.payload
          ? 'payload pruned'
          : 'endpoint disabled or deleted';
      return { kind: 'cancelled', reason };
    }
    if (row.throttle_rate && !input.slotReserved) {
      const waitMs = await reserveSlot(input.endpointId);
      if (waitMs > MAX_INLINE_THROTTLE_WAIT_MS) return { kind: 'wait', waitMs };
      if (waitMs > 0) await sleep(waitMs);
    }
    let request: { method: string; headers: Record<string, string>; body: string };
    try {
      if (config.HOOKFLOW_HTTPS_ONLY && !row.url.startsWith('https:'))
        throw new ConfigurationError('HTTPS only (HOOKFLOW_HTTPS_ONLY): the endpoint URL is not https');
      const body = render(row, input);
      request = { method: row.method, headers: requestHeaders(row, input, body), body };
    } catch (err) {
      if (!(err instanceof ConfigurationError)) throw err;
      return { kind: 'misconfigured', url: row.url, error: err.message, at: new Date().toISOString() };
    }

    const at = new Date().toISOString();
    const started = performance.now();
    try {
      const res = await http.send(row.url, request);
      return {
        kind: 'sent',
        url: row.url,
        statusCode: res.statusCode,
        retryAfterSeconds: parseRetryAfter(res.headers['retry-after'], Date.now()),
        response: res.body,
        responseTruncated: res.truncated,
        durationMs: res.durationMs,
        at,
      };
    } catch (err) {
      const durationMs = Math.round(performance.now() - started);
      const cause = (err as { cause?: unknown }).cause ?? err;
      if (err instanceof BlockedAddressError || cause instanceof BlockedAddressError)
        return {
          kind: 'failed',
          url: row.url,
          errorKind: 'blocked',
          error: (cause as Error).message,
          durationMs,
          at,
        };
      if (isTimeout(err) || isTimeout(cause))
        return {
          kind: 'failed',
          url: row.url,
          errorKind: 'timeout',
          error: `Timed out after ${config.HOOKFLOW_HTTP_TIMEOUT_MS} ms`,
          durationMs,
          at,
        };
      return {
        kind: 'failed',
        url: row.url,
        errorKind: (cause as { code?: string }).code ?? 'network',
        error: (cause as Error).message || String(cause),
        durationMs,
        at,
      };
    }
  };
}
