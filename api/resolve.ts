import type { EntityManager } from '@mikro-orm/postgresql';
import type { Request } from 'express';
import { ApplicationSchema, EndpointSchema, type Application, type Endpoint } from '../src/db/entities';
import type { StoredMessage } from '../src/domain/ingest';
import { notFound } from './http-errors';
import { principalOf } from './middleware/auth';

/**
 * Finds an application by id or uid, as Svix's `{app_id}` path parameter allows. An app
 * token reaches only its own application: any other is answered 404, never 403, so ids
 * of other tenants cannot be probed.
 */
export async function findApp(em: EntityManager, req: Request, idOrUid: string): Promise<Application> {
  const app = idOrUid.startsWith('app_')
    ? await em.findOne(ApplicationSchema, { id: idOrUid, deletedAt: null })
    : await em.findOne(ApplicationSchema, { uid: idOrUid, deletedAt: null });
  const principal = principalOf(req);
  if (!app || (principal.kind === 'app' && principal.appId !== app.id)) throw notFound('Application');
  return app;
}

/** An endpoint of an application, by id or uid. */
export async function findEndpoint(em: EntityManager, app: Application, idOrUid: string): Promise<Endpoint> {
  const ep = idOrUid.startsWith('ep_')
    ? await em.findOne(EndpointSchema, { id: idOrUid, appId: app.id })
    : await em.findOne(EndpointSchema, { uid: idOrUid, appId: app.id });
  if (!ep) throw notFound('Endpoint');
  return ep;
}

export const MESSAGE_FIELDS =
  'm.id, m.app_id, m.event_type, m.event_id, m.channels, m.tags, m.created_at, m.expires_at';
/**
 * The content of message `m` as the columns `payload` (null once pruned or expunged, or
 * when `content` is false) and `raw` (a raw payload), each name after `prefix`.
 */
export const contentOfM = (content = true, prefix = '') =>
  content
    ? `(select c.payload from message_content c where c.msg_id = m.id) as ${prefix}payload,
       coalesce((select c.raw from message_content c where c.msg_id = m.id), false) as ${prefix}raw`
    : `null as ${prefix}payload, false as ${prefix}raw`;

/** A message of an application, by id or eventId. */
export async function findMessage(
  em: EntityManager,
  app: Application,
  idOrEventId: string,
): Promise<StoredMessage> {
  const rows: Array<Record<string, unknown>> = await em
    .getConnection()
    .execute(
      `select ${MESSAGE_FIELDS}, ${contentOfM()} from messages m where m.app_id = ? and m.${idOrEventId.startsWith('msg_') ? 'id' : 'event_id'} = ?`,
      [app.id, idOrEventId],
    );
  if (!rows[0]) throw notFound('Message');
  return rowToMessage(rows[0]);
}

export function rowToMessage(r: Record<string, unknown>): StoredMessage {
  return {
    id: r.id as string,
    appId: r.app_id as string,
    eventType: r.event_type as string,
    eventId: (r.event_id as string) ?? null,
    channels: (r.channels as string[]) ?? null,
    tags: (r.tags as string[]) ?? null,
    payload: (r.payload as string) ?? null,
    raw: r.raw === true,
    createdAt: new Date(r.created_at as string),
    expiresAt: new Date(r.expires_at as string),
  };
}
