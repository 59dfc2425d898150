import { Router } from 'express';
import { z } from 'zod';
import type { EntityManager } from '@mikro-orm/postgresql';
import { ApplicationSchema, MessageSchema, type Application, type Message } from '../../src/db/entities';
import { idAt, newId } from '../../src/ids';
import { textArray } from '../../src/db/sql';
import { endpointMatches } from '../../src/domain/routing';
import type { DeliveryRef } from '../../src/domain/dispatcher';
import type { ApiDeps } from '../context';
import { conflict, notFound } from '../http-errors';
import { keyset, page, paginationQuery } from '../pagination';
import { findApp } from '../resolve';
import { defineRoute } from '../route';
import { isoDateTime } from '../schema-formats';
import { appIn } from './applications-schema';
import { principalOf } from '../middleware/auth';
import { metrics } from '../../src/metrics';

export const eventTypeName = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[a-zA-Z0-9\-_.]+$/, 'must contain only letters, digits, "-", "_" and "."');
export const channelName = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[a-zA-Z0-9\-_.:]+$/, 'must contain only letters, digits, "-", "_", "." and ":"');

export const messageIn = z
  .object({
    eventType: eventTypeName,
    eventId: z
      .string()
      .min(1)
      .max(256)
      .regex(/^[a-zA-Z0-9\-_.]+$/, 'must contain only letters, digits, "-", "_" and "."')
      .nullish(),
    payload: z.record(z.string(), z.unknown(), { message: 'must be a JSON object' }),
    channels: z.array(channelName).min(1).max(10).nullish(),
    tags: z.array(z.string().min(1).max(128)).max(5).nullish(),
    payloadRetentionPeriod: z.number().int().min(1).max(90).nullish(),
    payloadRetentionHours: z.number().int().min(1).max(2160).nullish(),
    application: appIn.nullish(),
    transformationsParams: z.record(z.string(), z.unknown()).nullish(),
  })
  .strict();

const stringList = z.preprocess(
  (v) => (v === undefined ? undefined : Array.isArray(v) ? v : String(v).split(',')),
  z.array(eventTypeName).max(50),
);

const listQuery = paginationQuery.extend({
  event_types: stringList.optional(),
  channel: channelName.optional(),
  before: isoDateTime.optional(),
  after: isoDateTime.optional(),
  with_content: z.enum(['true', 'false']).default('true'),
  tag: z.string().max(128).optional(),
});

export function messageOut(m: Message, withContent = true) {
  return {
    id: m.id,
    eventType: m.eventType,
    eventId: m.eventId,
    channels: m.channels,
    tags: m.tags,
    payload: withContent ? (m.payload ?? {}) : {},
    timestamp: m.createdAt.toISOString(),
  };
}

export async function findMessage(
  em: EntityManager,
  app: Application,
  idOrEventId: string,
): Promise<Message> {
  const msg = idOrEventId.startsWith('msg_')
    ? await em.findOne(MessageSchema, { id: idOrEventId, appId: app.id })
    : await em.findOne(MessageSchema, { eventId: idOrEventId, appId: app.id });
  if (!msg) throw notFound('Message');
  return msg;
}

function isUniqueViolation(err: unknown): boolean {
  return (
    (err as { code?: string }).code === '23505' ||
    (err as { name?: string }).name === 'UniqueConstraintViolationException'
  );
}

/**
 * Messages. A message is accepted once it and its deliveries are committed in PostgreSQL;
 * workflows are started after the 202 by the dispatcher, or later by the reconciler.
 */
const appParams = z.object({ app: z.string().min(1).max(256) });
const msgParams = appParams.extend({ msg: z.string().min(1).max(256) });
const withContent = z.object({ with_content: z.enum(['true', 'false']).default('true') });

export const messageOutSchema = z.object({
  id: z.string(),
  eventType: z.string(),
  eventId: z.string().nullable(),
  channels: z.array(z.string()).nullable(),
  tags: z.array(z.string()).nullable(),
  payload: z.record(z.string(), z.unknown()),
  timestamp: z.string(),
});
const listOut = z.object({
  data: z.array(messageOutSchema),
  iterator: z.string().nullable(),
  prevIterator: z.string().nullable(),
  done: z.boolean(),
});

/**
 * Messages. A message is accepted once it and its deliveries are committed in PostgreSQL;
 * workflows are started after the 202 by the dispatcher, or later by the reconciler.
 */
export function messagesRouter({ orm, dispatcher, config }: ApiDeps): Router {
  const router = Router();

  defineRoute(
    router,
    {
      method: 'post',
      path: '/app/:app/msg',
      operationId: 'v1.message.create',
      summary: 'Create a message and deliver it to every subscribed endpoint',
      tag: 'Message',
      params: appParams,
      query: withContent,
      body: messageIn,
      idempotent: true,
      responses: {
        202: { description: 'Accepted: stored, delivery under way', schema: messageOutSchema },
        409: { description: 'A message with this eventId exists' },
        413: { description: 'Body larger than 1 MB' },
      },
    },
    async ({ req, params, query, body }) => {
      const em = orm.em.fork();
      let app: Application;
      try {
        app = await findApp(em, req, params.app);
      } catch (err) {
        // `application` in the body creates the application on the fly (admin only).
        if (!body.application || principalOf(req).kind !== 'admin') throw err;
        app = await createAppOnTheFly(em, params.app, body.application);
      }
      const msg = newMessage(app, body, config.HOOKFLOW_RETENTION_DAYS);
      const refs = await storeMessage(em, app, msg);
      metrics.messagesAccepted.inc();
      dispatcher.enqueue(refs);
      return { status: 202, body: messageOut(msg, query.with_content === 'true') };
    },
  );

  defineRoute(
    router,
    {
      method: 'get',
      path: '/app/:app/msg',
      operationId: 'v1.message.list',
      summary: 'List messages, newest first',
      tag: 'Message',
      params: appParams,
      query: listQuery,
      responses: { 200: { description: 'A page of messages', schema: listOut } },
    },
    async ({ req, params, query: q }) => {
      const em = orm.em.fork();
      const app = await findApp(em, req, params.app);
      const ks = keyset(q, 'descending');
      const where: string[] = ['app_id = ?'];
      const args: unknown[] = [app.id];
      if (ks.after) {
        where.push(`id ${ks.op} ?`);
        args.push(ks.after);
      }
      if (q.event_types?.length) {
        where.push('event_type = any(?::text[])');
        args.push(textArray(q.event_types));
      }
      if (q.channel) {
        where.push('? = any(channels)');
        args.push(q.channel);
      }
      if (q.tag) {
        where.push('? = any(tags)');
        args.push(q.tag);
      }
      if (q.after) {
        where.push('id > ?');
        args.push(idAt('msg', new Date(q.after)));
      }
      if (q.before) {
        where.push('id < ?');
        args.push(idAt('msg', new Date(q.before)));
      }
      const content = q.with_content === 'true';
      const rows: Array<Record<string, unknown>> = await em.getConnection().execute(
        `select id, app_id, event_type, event_id, channels, tags, ${content ? 'payload' : 'null as payload'}, created_at, expires_at
             from messages where ${where.join(' and ')} order by id ${ks.dir} limit ?`,
        [...args, ks.fetch],
      );
      return {
        status: 200,
        body: page(
          rows,
          ks,
          q.limit,
          (r) => r.id as string,
          (r) => messageOut(rowToMessage(r), content),
        ),
      };
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
      params: msgParams,
      query: withContent,
      responses: {
        200: { description: 'The message', schema: messageOutSchema },
        404: { description: 'Not found' },
      },
    },
    async ({ req, params, query }) => {
      const em = orm.em.fork();
      const app = await findApp(em, req, params.app);
      return {
        status: 200,
        body: messageOut(await findMessage(em, app, params.msg), query.with_content === 'true'),
      };
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
      params: msgParams,
      responses: { 204: { description: 'Payload deleted' } },
    },
    async ({ req, params }) => {
      const em = orm.em.fork();
      const app = await findApp(em, req, params.app);
      const msg = await findMessage(em, app, params.msg);
      await em.getConnection().execute('update messages set payload = null where id = ?', [msg.id]);
      return { status: 204 };
    },
  );

  return router;
}

export function newMessage(
  app: Application,
  body: z.infer<typeof messageIn>,
  defaultRetentionDays: number,
): Message {
  const now = new Date();
  const hours =
    body.payloadRetentionHours ??
    (body.payloadRetentionPeriod ?? app.retentionDays ?? defaultRetentionDays) * 24;
  return {
    id: newId('msg', now.getTime()),
    appId: app.id,
    eventType: body.eventType,
    eventId: body.eventId ?? null,
    channels: body.channels ?? null,
    tags: body.tags ?? null,
    payload: body.payload,
    createdAt: now,
    expiresAt: new Date(now.getTime() + hours * 3600_000),
  };
}

/**
 * Stores the message and its routed deliveries in one transaction; returns what to dispatch.
 * `onlyTo` (send-example) skips routing and the app switch: one delivery, to that endpoint.
 */
export async function storeMessage(
  em: EntityManager,
  app: Application,
  msg: Message,
  onlyTo?: { endpointId: string },
): Promise<DeliveryRef[]> {
  let refs: DeliveryRef[] = [];
  try {
    await em.transactional(async (tx) => {
      const conn = tx.getConnection();
      const ctx = tx.getTransactionContext();
      await conn.execute(
        `insert into messages (id, app_id, event_type, event_id, channels, tags, payload, created_at, expires_at)
         values (?, ?, ?, ?, ?::text[], ?::text[], ?::jsonb, ?, ?)`,
        [
          msg.id,
          msg.appId,
          msg.eventType,
          msg.eventId,
          textArray(msg.channels),
          textArray(msg.tags),
          JSON.stringify(msg.payload),
          msg.createdAt,
          msg.expiresAt,
        ],
        'run',
        ctx,
      );
      if (onlyTo) {
        refs = [{ msgId: msg.id, endpointId: onlyTo.endpointId, appId: app.id, eventType: msg.eventType }];
      } else {
        if (!app.webhooksEnabled) return; // stored only: replay-missing sends it later
        const endpoints: Array<{
          id: string;
          disabled: boolean;
          event_types: string[] | null;
          channels: string[] | null;
        }> = await conn.execute(
          'select id, disabled, event_types, channels from endpoints where app_id = ?',
          [app.id],
          'all',
          ctx,
        );
        refs = endpoints
          .filter((e) =>
            endpointMatches(
              { disabled: e.disabled, eventTypes: e.event_types, channels: e.channels },
              msg.eventType,
              msg.channels,
            ),
          )
          .map((e) => ({ msgId: msg.id, endpointId: e.id, appId: app.id, eventType: msg.eventType }));
      }
      if (refs.length === 0) return;
      const values = refs.map(() => `(?, ?, ?, ?, 'pending', ?)`).join(', ');
      await conn.execute(
        `insert into deliveries (msg_id, endpoint_id, app_id, event_type, state, created_at) values ${values}`,
        refs.flatMap((r) => [r.msgId, r.endpointId, r.appId, r.eventType, msg.createdAt]),
        'run',
        ctx,
      );
    });
  } catch (err) {
    if (isUniqueViolation(err))
      throw conflict(`A message with eventId "${msg.eventId}" already exists in this application`);
    throw err;
  }
  return refs;
}

export function rowToMessage(r: Record<string, unknown>): Message {
  return {
    id: r.id as string,
    appId: r.app_id as string,
    eventType: r.event_type as string,
    eventId: (r.event_id as string) ?? null,
    channels: (r.channels as string[]) ?? null,
    tags: (r.tags as string[]) ?? null,
    payload: (r.payload as Record<string, unknown>) ?? null,
    createdAt: new Date(r.created_at as string),
    expiresAt: new Date(r.expires_at as string),
  };
}

async function createAppOnTheFly(
  em: EntityManager,
  idOrUid: string,
  input: z.infer<typeof appIn>,
): Promise<Application> {
  const uid = idOrUid.startsWith('app_') ? (input.uid ?? null) : idOrUid;
  const existing = uid ? await em.findOne(ApplicationSchema, { uid }) : null;
  if (existing) return existing;
  const app = em.create(ApplicationSchema, {
    id: newId('app'),
    uid,
    name: input.name,
    rateLimit: input.rateLimit ?? null,
    metadata: input.metadata ?? {},
    webhooksEnabled: true,
    retentionDays: null,
    createdAt: new Date(),
    updatedAt: new Date(),
  });
  await em.flush();
  return app;
}
