import type { Message } from '../db/entities';
import type { Orm } from '../db/orm';
import { pgQuery } from '../db/pg';
import { textArray } from '../db/sql';
import { newId } from '../ids';
import type { DeliveryRef } from './dispatcher';
import { ENDPOINT_MATCHES_MESSAGE_SQL } from './routing';

/**
 * A message as stored: `payload` is the text received, null once expunged or pruned; `raw`
 * when it came as `transformationsParams.rawPayload` (any text, sent as is) rather than as
 * the JSON `payload` member.
 */
export type StoredMessage = Message & { payload: string | null; raw: boolean };

export interface NewMessage {
  eventType: string;
  eventId: string | null;
  channels: string[] | null;
  tags: string[] | null;
  /** The payload's exact text: the `payload` member's JSON, or the raw payload. */
  payload: string;
  /** The payload is `transformationsParams.rawPayload`: sent as is, never through a template. */
  raw: boolean;
  /** The `content-type` deliveries are sent with; null: application/json. */
  contentType: string | null;
  /** `payloadRetentionHours`, or `payloadRetentionPeriod` in hours; null: the application's, else the default. */
  retentionHours: number | null;
}

export interface IngestRequest {
  /** The `{app}` path parameter: an application id (`app_…`) or uid. */
  app: string;
  /** An app token's application: no other one is found. Null for the admin token. */
  tokenAppId: string | null;
  message: NewMessage;
  /** An idempotency record written by the same statement: key hash, request fingerprint, TTL. */
  idempotency?: { key: string; fingerprint: string; ttlHours: number; abandonedAfterS: number };
  /** The 202's body for the message about to be stored; the idempotency record keeps it. */
  respond: (msg: StoredMessage) => string;
  /** Send-example: one delivery to this endpoint, whatever the routing and the app's switch. */
  onlyTo?: string;
}

export type IngestOutcome =
  | { kind: 'stored'; message: StoredMessage; response: string; refs: DeliveryRef[] }
  /** No such application, or not the app token's. */
  | { kind: 'no-app' }
  /** The idempotency key is held by an earlier request: replay its answer. */
  | { kind: 'key-taken' };

export class DuplicateEventId extends Error {}

/**
 * Accepting a message, the API's hot path: ONE statement, so one round trip and one
 * commit. It finds the application (by id or uid, within an app token's reach), claims the
 * idempotency key, inserts the message, its content and one delivery per routed endpoint,
 * all or nothing. Data-modifying CTEs run once each whatever reads them, and each later
 * one reads the rows the earlier returned, so an unknown app or a held key stores nothing.
 * The statement is prepared per connection (named), so PostgreSQL parses and plans it once.
 */
function ingestSql(by: 'id' | 'uid', onlyTo: boolean): string {
  return `
with app as (
  select id, webhooks_enabled, retention_days from applications
   where ${by} = $1::text and ($2::text is null or id = $2::text) and deleted_at is null
), idem as (
  insert into idempotency_records as r (key, fingerprint, state, status_code, response_body, created_at, expires_at)
  select $3::text, $4::text, 'done', 202, $5::text, now(), now() + make_interval(hours => $15::int)
    from app where $3::text is not null
  on conflict (key) do update set fingerprint = excluded.fingerprint, state = 'done', status_code = 202,
    response_headers = null, response_body = excluded.response_body, created_at = now(), expires_at = excluded.expires_at
   where r.expires_at < now() or (r.state = 'in_progress' and r.created_at < now() - make_interval(secs => $16::int))
  returning key
), ok as (
  select * from app where $3::text is null or exists (select 1 from idem)
), m as (
  insert into messages (id, app_id, event_type, event_id, channels, tags, created_at, expires_at)
  select $6::text, ok.id, $7::text, $8::text, $9::text[], $10::text[], $11::timestamptz,
         $11::timestamptz + make_interval(hours => coalesce($12::int, coalesce(ok.retention_days, $13::int) * 24))
    from ok
  returning id, app_id, event_type, channels, expires_at
), content as (
  insert into message_content (msg_id, payload, expires_at, raw, content_type)
  select id, $14::text, expires_at, $17::boolean, $18::text from m
), routed as (
  ${
    onlyTo
      ? `select id from endpoints e where e.id = $19::text and e.app_id = (select app_id from m)`
      : `select e.id from m join ok on ok.webhooks_enabled join endpoints e on e.app_id = m.app_id
          where ${ENDPOINT_MATCHES_MESSAGE_SQL}`
  }
), delivered as (
  insert into deliveries (msg_id, endpoint_id, app_id, event_type, state, created_at)
  select $6::text, routed.id, (select app_id from m), $7::text, 'pending', $11::timestamptz from routed
)
select (select id from app) as app_id, (select expires_at from m) as expires_at,
       array(select id from routed) as endpoints`;
}

const STATEMENTS = {
  id: ingestSql('id', false),
  uid: ingestSql('uid', false),
  example: ingestSql('id', true),
};

export class Ingest {
  constructor(
    private readonly orm: Orm,
    private readonly defaultRetentionDays: number,
  ) {}

  async store(req: IngestRequest): Promise<IngestOutcome> {
    const now = new Date();
    const msg: StoredMessage = {
      id: newId('msg', now.getTime()),
      appId: '',
      eventType: req.message.eventType,
      eventId: req.message.eventId,
      channels: req.message.channels,
      tags: req.message.tags,
      payload: req.message.payload,
      raw: req.message.raw,
      createdAt: now,
      expiresAt: now, // set from the row below
    };
    const response = req.respond(msg);
    const by = req.onlyTo ? 'example' : req.app.startsWith('app_') ? 'id' : 'uid';
    let rows: Array<{ app_id: string | null; expires_at: Date | null; endpoints: string[] }>;
    try {
      rows = await pgQuery(this.orm, {
        name: `ingest-${by}`,
        text: STATEMENTS[by],
        values: [
          req.app,
          req.tokenAppId,
          req.idempotency?.key ?? null,
          req.idempotency?.fingerprint ?? null,
          response,
          msg.id,
          msg.eventType,
          msg.eventId,
          textArray(msg.channels),
          textArray(msg.tags),
          now,
          req.message.retentionHours,
          this.defaultRetentionDays,
          req.message.payload,
          req.idempotency?.ttlHours ?? 0,
          req.idempotency?.abandonedAfterS ?? 0,
          req.message.raw,
          req.message.contentType,
          ...(req.onlyTo ? [req.onlyTo] : []),
        ],
      });
    } catch (err) {
      const e = err as { code?: string; constraint?: string };
      if (e.code === '23505' && e.constraint === 'messages_app_event_id_key') throw new DuplicateEventId();
      throw err;
    }
    const row = rows[0];
    if (!row.app_id) return { kind: 'no-app' };
    if (!row.expires_at) return { kind: 'key-taken' };
    msg.appId = row.app_id;
    msg.expiresAt = new Date(row.expires_at);
    const refs = row.endpoints.map((endpointId) => ({
      msgId: msg.id,
      endpointId,
      appId: row.app_id!,
      eventType: msg.eventType,
    }));
    return { kind: 'stored', message: msg, response, refs };
  }

  /**
   * Creates the application a first message names (`application` in the body), race-free:
   * concurrent first messages to a new uid insert it once (the unique index on uid decides)
   * and the others find the winner's row. Returns its id.
   */
  async ensureApp(
    idOrUid: string,
    input: {
      name: string;
      uid?: string | null;
      throttleRate?: number | null;
      rateLimit?: number | null;
      metadata?: Record<string, string>;
      webhooksEnabled?: boolean;
      retentionDays?: number | null;
    },
  ): Promise<string> {
    const uid = idOrUid.startsWith('app_') ? (input.uid ?? null) : idOrUid;
    const inserted = await pgQuery<{ id: string }>(this.orm, {
      text: `insert into applications (id, uid, name, rate_limit, metadata, webhooks_enabled, retention_days, created_at, updated_at)
             values ($1, $2, $3, $4, $5::jsonb, $6, $7, now(), now())
             on conflict (uid) where uid is not null do nothing
             returning id`,
      values: [
        newId('app'),
        uid,
        input.name,
        input.throttleRate ?? input.rateLimit ?? null,
        JSON.stringify(input.metadata ?? {}),
        input.webhooksEnabled ?? true,
        input.retentionDays ?? null,
      ],
    });
    if (inserted[0]) return inserted[0].id;
    // Another request created it first; this statement's snapshot sees its commit.
    const existing = await pgQuery<{ id: string }>(this.orm, {
      text: 'select id from applications where uid = $1',
      values: [uid],
    });
    if (!existing[0]) throw new Error(`application uid ${uid} neither inserted nor found`);
    return existing[0].id;
  }
}
