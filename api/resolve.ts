import type { EntityManager } from '@mikro-orm/postgresql';
import type { Request } from 'express';
import { ApplicationSchema, EndpointSchema, type Application, type Endpoint } from '../src/db/entities';
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
