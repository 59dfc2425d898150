import { isUtf8 } from 'node:buffer';
import { Router } from 'express';
import { z } from 'zod';
import { idAt } from '../../src/ids';
import { textArray } from '../../src/db/sql';
import { DuplicateEventId, Ingest, type NewMessage, type StoredMessage } from '../../src/domain/ingest';
import { RawJson, memberText, stringify } from '../../src/domain/raw-json';
import { EXPIRED_PAYLOAD, payloadOf, payloadView } from '../message-payload';
import { metrics } from '../../src/metrics';
import type { ApiDeps, ApiRequest } from '../context';
import { badRequest, conflict, notFound } from '../http-errors';
import { ABANDONED_AFTER_S, IDEMPOTENCY_TTL_HOURS, IdempotencyStore } from '../middleware/idempotency';
import { principalOf } from '../middleware/auth';
import { paginationQuery } from '../pagination';
import { contentOfM, MESSAGE_FIELDS, rowToMessage } from '../resolve';
import { accepted, appPath, listOut, listPage, lookup, msgPath, noContent, ok, Where } from '../resource';
import { defineRoute, type RouteResult } from '../route';
import { isoDateTime } from '../schema-formats';
import { channelName, eventTypeName, messageIn, messageOutSchema, type MessageIn } from '../schemas';

/** `event_types`, repeated or comma-separated. */
export const eventTypesQuery = z.preprocess(
  (v) => (v === undefined ? undefined : Array.isArray(v) ? v : String(v).split(',')),
  z.array(eventTypeName).max(50),
);

const listQuery = paginationQuery.extend({
  event_types: eventTypesQuery.optional(),
  channel: channelName.optional(),
  before: isoDateTime.optional(),
  after: isoDateTime.optional(),
  with_content: z.enum(['true', 'false']).default('true'),
  tag: z.string().max(128).optional(),
});

export interface MessageFilters {
  event_types?: string[];
  channel?: string;
  tag?: string;
  after?: string;
  before?: string;
}

/**
 * Svix's filters on the messages `m` of a list. `after` and `before` are times, compared as
 * ids (they sort by time) on `column`: the message's id, or the attempt's in attempt lists.
 */
export function messageFilters(
  where: Where,
  q: MessageFilters,
  column: string,
  prefix: 'msg' | 'atmpt',
): Where {
  return where
    .when(!!q.event_types?.length, 'm.event_type = any(?::text[])', textArray(q.event_types))
    .when(!!q.channel, '? = any(m.channels)', q.channel)
    .when(!!q.tag, '? = any(m.tags)', q.tag)
    .when(!!q.after, `${column} > ?`, q.after && idAt(prefix, new Date(q.after)))
    .when(!!q.before, `${column} < ?`, q.before && idAt(prefix, new Date(q.before)));
}

/** Svix's MessageOut; the payload is written as the exact text received (api/message-payload.ts). */
export function messageOut(m: StoredMessage, withContent = true) {
  return {
    id: m.id,
    eventType: m.eventType,
    eventId: m.eventId,
    channels: m.channels,
    tags: m.tags,
    payload: payloadView(m, withContent),
    timestamp: m.createdAt.toISOString(),
  };
}

/**
 * The payload member's exact text in the request body. The body is valid JSON (body-parser
 * parsed it strictly), but only UTF-8 text can be kept byte for byte.
 */
function payloadText(req: ApiRequest): string {
  const raw = req.rawBody;
  if (!raw || !isUtf8(raw)) throw badRequest('The request body must be JSON encoded as UTF-8');
  let text: string | undefined;
  try {
    // A byte order mark before the JSON is tolerated, as body-parser tolerates it.
    text = memberText(raw.toString('utf8').replace(/^\uFEFF/, ''), 'payload');
  } catch {
    throw badRequest('The request body must be JSON encoded as UTF-8');
  }
  if (text === undefined) throw badRequest('The request body has no payload');
  return text;
}

/**
 * The fields of a new message, from Svix's MessageIn and the `payload` member's text (or its
 * `transformationsParams.rawPayload`).
 */
export function newMessage(
  body: Pick<MessageIn, 'eventType'> & Partial<MessageIn>,
  payloadMemberText: string,
): NewMessage {
  return {
    eventType: body.eventType,
    eventId: body.eventId ?? null,
    channels: body.channels ?? null,
    tags: body.tags ?? null,
    ...payloadOf(body, payloadMemberText),
    retentionHours:
      body.payloadRetentionHours ?? (body.payloadRetentionPeriod ? body.payloadRetentionPeriod * 24 : null),
  };
}

export const duplicateEventId = (eventId: string | null) =>
  conflict(`A message with eventId "${eventId}" already exists in this application`);

/** Svix's MessageRawPayloadOut. */
const messageRawPayloadOut = z.object({ payload: z.string() }).meta({ id: 'MessageRawPayloadOut' });

const withContent = z.object({ with_content: z.enum(['true', 'false']).default('true') });

/** Message create's input schemas: the route and the API's fast path validate with the same ones. */
export const messageCreateInput = { params: appPath, query: withContent, body: messageIn };

export type MessageCreate = (ctx: {
  req: ApiRequest;
  params: z.infer<typeof appPath>;
  query: z.infer<typeof withContent>;
  body: z.infer<typeof messageIn>;
}) => Promise<RouteResult>;

/**
 * Message create, the API's hot path: a message is accepted once it and its deliveries are
 * committed in PostgreSQL; workflows are started after the 202 by the dispatcher, or later
 * by the reconciler. Counted while handled: a saturated API makes the dispatcher wait
 * (HOOKFLOW_DISPATCH_YIELD_AT).
 */
export function messageCreate({ orm, dispatcher, config }: ApiDeps): MessageCreate {
  const ingest = new Ingest(orm, config.HOOKFLOW_RETENTION_DAYS);
  const idempotencyStore = new IdempotencyStore(orm);

  async function createMessage({ req, params, query, body }: Parameters<MessageCreate>[0]) {
    const principal = principalOf(req);
    const key = IdempotencyStore.header(req);
    const idempotency = key
      ? {
          key: IdempotencyStore.keyOf(req, key),
          fingerprint: IdempotencyStore.fingerprintOf(req),
          ttlHours: IDEMPOTENCY_TTL_HOURS,
          abandonedAfterS: ABANDONED_AFTER_S,
        }
      : undefined;
    const content = query.with_content === 'true';
    const request = {
      app: params.app,
      tokenAppId: principal.kind === 'app' ? principal.appId : null,
      message: newMessage(body, payloadText(req)),
      idempotency,
      respond: (m: StoredMessage) => stringify(messageOut(m, content))!,
    };
    // A key whose record vanished between the statement and its replay (expired, or an
    // abandoned request's) is claimed again: a few turns at most.
    for (let turn = 0; turn < 3; turn++) {
      let out = await ingest.store(request).catch(rethrowDuplicate(body.eventId));
      if (out.kind === 'no-app' && body.application && principal.kind === 'admin') {
        // `application` in the body creates the application on the fly (admin only).
        const appId = await ingest.ensureApp(params.app, body.application);
        out = await ingest.store({ ...request, app: appId }).catch(rethrowDuplicate(body.eventId));
      }
      if (out.kind === 'no-app') throw notFound('Application');
      if (out.kind === 'stored') {
        metrics.messagesAccepted.inc();
        dispatcher.enqueue(out.refs);
        return accepted(new RawJson(out.response));
      }
      const replayed = await idempotencyStore.replay(idempotency!.key, idempotency!.fingerprint);
      if (replayed) return replayed;
    }
    throw conflict('The idempotency key could not be claimed; retry');
  }

  return (ctx) => dispatcher.ingesting(() => createMessage(ctx));
}

/** Messages: create (see messageCreate), list, get, and expunging a payload. */
export function messagesRouter(deps: ApiDeps, create: MessageCreate = messageCreate(deps)): Router {
  const { orm } = deps;
  const router = Router();

  defineRoute(
    router,
    {
      method: 'post',
      path: '/app/:app/msg',
      operationId: 'v1.message.create',
      summary:
        'Create a message and deliver it to every subscribed endpoint; `transformationsParams.rawPayload` is sent instead of `payload`, as is, with `transformationsParams.headers["content-type"]` (default application/json)',
      tag: 'Message',
      params: appPath,
      query: withContent,
      body: messageIn,
      // The key's record is written in the statement that stores the message.
      idempotent: 'handler',
      responses: {
        202: { description: 'Accepted: stored, delivery under way', schema: messageOutSchema },
        409: { description: 'A message with this eventId exists' },
        413: { description: 'Body larger than 1 MB' },
        422: { description: 'Invalid body, or an idempotency-key already used with another request' },
      },
    },
    create,
  );

  defineRoute(
    router,
    {
      method: 'get',
      path: '/app/:app/msg',
      operationId: 'v1.message.list',
      summary: 'List messages, newest first',
      tag: 'Message',
      params: appPath,
      query: listQuery,
      responses: { 200: { description: 'A page of messages', schema: listOut(messageOutSchema) } },
    },
    async ({ req, params, query: q }) => {
      const { em, app } = await lookup(orm, req, params);
      const content = q.with_content === 'true';
      return listPage(
        q,
        'descending',
        (ks) => {
          const where = messageFilters(new Where('m.app_id = ?', app.id).after(ks, 'm.id'), q, 'm.id', 'msg');
          return em.getConnection().execute<Array<Record<string, unknown>>>(
            `select ${MESSAGE_FIELDS}, ${contentOfM(content)}
               from messages m where ${where} order by m.id ${ks.dir} limit ?`,
            [...where.args, ks.fetch],
          );
        },
        (r) => r.id as string,
        (r) => messageOut(rowToMessage(r), content),
      );
    },
  );

  defineRoute(
    router,
    {
      method: 'get',
      path: '/app/:app/msg/:msg',
      operationId: 'v1.message.get',
      summary: 'Get a message by id or eventId',
      tag: 'Message',
      params: msgPath,
      query: withContent,
      responses: {
        200: { description: 'The message', schema: messageOutSchema },
        404: { description: 'Not found' },
      },
    },
    async ({ req, params, query }) => {
      const { msg } = await lookup(orm, req, params);
      return ok(messageOut(msg, query.with_content === 'true'));
    },
  );

  defineRoute(
    router,
    {
      method: 'get',
      path: '/app/:app/msg/:msg/raw',
      operationId: 'v1.message.get-raw-payload',
      summary:
        'A message\'s payload as the exact text received, JSON or not (a raw payload included); `{"expired":true}` once expunged',
      tag: 'Message',
      params: msgPath,
      responses: {
        200: { description: 'The payload text', schema: messageRawPayloadOut },
        404: { description: 'Not found' },
      },
    },
    async ({ req, params }) => {
      const { msg } = await lookup(orm, req, params);
      return ok({ payload: msg.payload ?? EXPIRED_PAYLOAD });
    },
  );

  defineRoute(
    router,
    {
      method: 'delete',
      path: '/app/:app/msg/:msg/content',
      operationId: 'v1.message.expunge-content',
      summary: "Delete a message's payload; its attempts keep their metadata",
      tag: 'Message',
      params: msgPath,
      responses: { 204: { description: 'Payload deleted' } },
    },
    async ({ req, params }) => {
      const { em, msg } = await lookup(orm, req, params);
      await em.getConnection().execute('delete from message_content where msg_id = ?', [msg.id]);
      return noContent();
    },
  );

  return router;
}

function rethrowDuplicate(eventId: string | null | undefined) {
  return (err: unknown): never => {
    throw err instanceof DuplicateEventId ? duplicateEventId(eventId ?? null) : err;
  };
}
