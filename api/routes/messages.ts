import { Router } from 'express';
import { z } from 'zod';
import type { EntityManager } from '@mikro-orm/postgresql';
import { ApplicationSchema, MessageSchema, type Application, type Message } from '../../src/db/entities';
import { idAt, newId } from '../../src/ids';
import { endpointMatches } from '../../src/domain/routing';
import type { DeliveryRef } from '../../src/domain/dispatcher';
import type { ApiDeps } from '../context';
import { conflict, notFound } from '../http-errors';
import { keyset, page, paginationQuery } from '../pagination';
import { findApp } from '../resolve';
import { parse } from '../validate';
import { appIn } from './applications-schema';
import { principalOf } from '../middleware/auth';

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
    eventId: z.string().min(1).max(256).regex(/^[a-zA-Z0-9\-_.]+$/, 'must contain only letters, digits, "-", "_" and "."').nullish(),
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
  before: z.iso.datetime({ offset: true }).optional(),
  after: z.iso.datetime({ offset: true }).optional(),
  with_content: z.enum(['true', 'false']).default('true'),
  tag: z.string().max(128).optional(),
});

const createQuery = z.object({ with_content: z.enum(['true', 'false']).default('true') }).passthrough();

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

export async function findMessage(em: EntityManager, app: Application, idOrEventId: string): Promise<Message> {
  const msg = idOrEventId.startsWith('msg_')
    ? await em.findOne(MessageSchema, { id: idOrEventId, appId: app.id })
    : await em.findOne(MessageSchema, { eventId: idOrEventId, appId: app.id });
  if (!msg) throw notFound('Message');
  return msg;
}

function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: string }).code === '23505' || (err as { name?: string }).name === 'UniqueConstraintViolationException';
}

/**
 * Messages. A message is accepted once it and its deliveries are committed in PostgreSQL;
 * workflows are started after the 202 by the dispatcher, or later by the reconciler.
 */
export function messagesRouter({ orm, dispatcher, config }: ApiDeps): Router {
  const router = Router();

  router.post('/app/:app/msg', async (req, res) => {
    const body = parse(messageIn, req.body, 'body');
    const query = parse(createQuery, req.query, 'query');
    const em = orm.em.fork();
    let app: Application;
    try {
      app = await findApp(em, req, req.params.app);
    } catch (err) {
      // `application` in the body creates the application on the fly (admin only).
      if (!body.application || principalOf(req).kind !== 'admin') throw err;
      app = await createAppOnTheFly(em, req.params.app, body.application);
    }

    const now = new Date();
    const retentionHours = body.payloadRetentionHours ?? (body.payloadRetentionPeriod ?? app.retentionDays ?? config.HOOKFLOW_RETENTION_DAYS) * 24;
    const msg: Message = {
      id: newId('msg', now.getTime()),
      appId: app.id,
      eventType: body.eventType,
      eventId: body.eventId ?? null,
      channels: body.channels ?? null,
      tags: body.tags ?? null,
      payload: body.payload,
      createdAt: now,
      expiresAt: new Date(now.getTime() + retentionHours * 3600_000),
    };
    let refs: DeliveryRef[] = [];
    try {
      await em.transactional(async (tx) => {
        const conn = tx.getConnection();
        const ctx = tx.getTransactionContext();
        await conn.execute(
          `insert into messages (id, app_id, event_type, event_id, channels, tags, payload, created_at, expires_at)
           values (?, ?, ?, ?, ?, ?, ?::jsonb, ?, ?)`,
          [msg.id, msg.appId, msg.eventType, msg.eventId, msg.channels, msg.tags, JSON.stringify(msg.payload), now, msg.expiresAt],
          'run',
          ctx,
        );
        if (!app.webhooksEnabled) return; // stored only: replay-missing sends it later
        const endpoints: Array<{ id: string; disabled: boolean; event_types: string[] | null; channels: string[] | null }> =
          await conn.execute('select id, disabled, event_types, channels from endpoints where app_id = ?', [app.id], 'all', ctx);
        refs = endpoints
          .filter((e) => endpointMatches({ disabled: e.disabled, eventTypes: e.event_types, channels: e.channels }, msg.eventType, msg.channels))
          .map((e) => ({ msgId: msg.id, endpointId: e.id, appId: app.id, eventType: msg.eventType }));
        if (refs.length === 0) return;
        const values = refs.map(() => `(?, ?, ?, ?, 'pending', ?)`).join(', ');
        await conn.execute(
          `insert into deliveries (msg_id, endpoint_id, app_id, event_type, state, created_at) values ${values}`,
          refs.flatMap((r) => [r.msgId, r.endpointId, r.appId, r.eventType, now]),
          'run',
          ctx,
        );
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict(`A message with eventId "${msg.eventId}" already exists in this application`);
      throw err;
    }
    dispatcher.enqueue(refs);
    res.status(202).json(messageOut(msg, query.with_content === 'true'));
  });

  router.get('/app/:app/msg', async (req, res) => {
    const q = parse(listQuery, req.query, 'query');
    const em = orm.em.fork();
    const app = await findApp(em, req, req.params.app);
    const ks = keyset(q, 'descending');
    const where: string[] = ['app_id = ?'];
    const params: unknown[] = [app.id];
    if (ks.after) (where.push(`id ${ks.op} ?`), params.push(ks.after));
    if (q.event_types?.length) (where.push('event_type = any(?)'), params.push(q.event_types));
    if (q.channel) (where.push('? = any(channels)'), params.push(q.channel));
    if (q.tag) (where.push('? = any(tags)'), params.push(q.tag));
    if (q.after) (where.push('id > ?'), params.push(idAt('msg', new Date(q.after))));
    if (q.before) (where.push('id < ?'), params.push(idAt('msg', new Date(q.before))));
    const rows: Array<Record<string, unknown>> = await em
      .getConnection()
      .execute(
        `select id, app_id, event_type, event_id, channels, tags, ${q.with_content === 'true' ? 'payload' : 'null as payload'}, created_at, expires_at
           from messages where ${where.join(' and ')} order by id ${ks.dir} limit ?`,
        [...params, ks.fetch],
      );
    res.json(page(rows, ks, q.limit, (r) => r.id as string, (r) => messageOut(rowToMessage(r), q.with_content === 'true')));
  });

  router.get('/app/:app/msg/:msg', async (req, res) => {
    const q = parse(z.object({ with_content: z.enum(['true', 'false']).default('true') }).passthrough(), req.query, 'query');
    const em = orm.em.fork();
    const app = await findApp(em, req, req.params.app);
    res.json(messageOut(await findMessage(em, app, req.params.msg), q.with_content === 'true'));
  });

  router.delete('/app/:app/msg/:msg/content', async (req, res) => {
    const em = orm.em.fork();
    const app = await findApp(em, req, req.params.app);
    const msg = await findMessage(em, app, req.params.msg);
    await em.getConnection().execute('update messages set payload = null where id = ?', [msg.id]);
    res.status(204).end();
  });

  return router;
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

async function createAppOnTheFly(em: EntityManager, idOrUid: string, input: z.infer<typeof appIn>): Promise<Application> {
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
