import { Router } from 'express';
import type { QueryResult } from '@mikro-orm/core';
import { EndpointSchema } from '../../src/db/entities';
import type { ApiDeps } from '../context';
import { HttpError, invalid, notFound } from '../http-errors';
import { uid } from './applications-schema';
import { paginationQuery } from '../pagination';
import { findEndpoint } from '../resolve';
import { afterCursor, created, listPage, lookup, noContent, ok } from '../resource';
import { defineRoute } from '../route';
import { startDeletion } from './deletion';
import { endpointEvents } from './endpoints/lifecycle';
import { endpointOut } from './endpoints/model';
import {
  appParams,
  endpointIn,
  endpointListOut,
  endpointOutSchema,
  endpointParams,
  endpointPatch,
  endpointUpdate,
} from './endpoints/schemas';
import { changeFrom, createEndpoint, updateEndpoint } from './endpoints/write';
import { secretRoutes } from './endpoints/secrets';
import { headerRoutes } from './endpoints/headers';
import { statsRoutes } from './endpoints/stats';
import { sendExampleRoutes } from './endpoints/send-example';
import { retryPendingRoutes } from './endpoints/retry-pending';

const TAG = 'Endpoint';

/**
 * Endpoints, as Svix's API has them: both generations of field names are accepted and
 * returned. Disabling or deleting an endpoint stops its running deliveries.
 */
export function endpointsRouter(deps: ApiDeps): Router {
  const { orm, box, config } = deps;
  const router = Router();
  const events = endpointEvents(deps);
  const writeDeps = { box, httpsOnly: config.HOOKFLOW_HTTPS_ONLY };

  defineRoute(
    router,
    {
      method: 'get',
      path: '/app/:app/endpoint',
      operationId: 'v1.endpoint.list',
      summary: "List an application's endpoints, newest first (as Svix) unless order=ascending",
      tag: TAG,
      params: appParams,
      query: paginationQuery,
      responses: { 200: { description: 'A page of endpoints', schema: endpointListOut } },
    },
    async ({ req, params, query: q }) => {
      const { em, app } = await lookup(orm, req, params);
      return listPage(
        q,
        'descending',
        (ks) => {
          const where = ks.after ? { appId: app.id, id: afterCursor(ks) } : { appId: app.id };
          return em.find(EndpointSchema, where, { orderBy: { id: ks.dir }, limit: ks.fetch });
        },
        (r) => r.id,
        endpointOut,
      );
    },
  );

  defineRoute(
    router,
    {
      method: 'post',
      path: '/app/:app/endpoint',
      operationId: 'v1.endpoint.create',
      summary: 'Create an endpoint',
      tag: TAG,
      params: appParams,
      body: endpointIn,
      idempotent: true,
      responses: {
        201: { description: 'Created', schema: endpointOutSchema },
        409: { description: 'An endpoint with this uid exists' },
        422: { description: 'Invalid input, unknown event types, or a template that does not render' },
      },
    },
    async ({ req, params, body }) => {
      const { em, app } = await lookup(orm, req, params);
      const ep = await createEndpoint(em, app, changeFrom(body, 'create'), writeDeps);
      await events.created(app, ep);
      return created(endpointOut(ep));
    },
  );

  defineRoute(
    router,
    {
      method: 'get',
      path: '/app/:app/endpoint/:endpoint',
      operationId: 'v1.endpoint.get',
      summary: 'Get an endpoint by id or uid',
      tag: TAG,
      params: endpointParams,
      responses: {
        200: { description: 'The endpoint', schema: endpointOutSchema },
        404: { description: 'Not found' },
      },
    },
    async ({ req, params }) => ok(endpointOut((await lookup(orm, req, params)).endpoint)),
  );

  defineRoute(
    router,
    {
      method: 'put',
      path: '/app/:app/endpoint/:endpoint',
      operationId: 'v1.endpoint.update',
      summary: 'Update an endpoint; a uid that does not exist yet creates it',
      tag: TAG,
      params: endpointParams,
      body: endpointUpdate,
      responses: {
        200: { description: 'Updated', schema: endpointOutSchema },
        201: { description: 'Created under the uid of the path', schema: endpointOutSchema },
        404: { description: 'No endpoint with this id' },
        409: { description: 'The uid belongs to another endpoint of this application' },
      },
    },
    async ({ req, params, body }) => {
      const { em, app } = await lookup(orm, req, { app: params.app });
      const existing = await findEndpoint(em, app, params.endpoint).catch((err) => {
        if (err instanceof HttpError && err.status === 404) return null;
        throw err;
      });
      const change = changeFrom(body, 'put');
      if (!existing) {
        // Upsert as Svix's server does; an `ep_` id cannot be chosen, so only a uid creates.
        if (params.endpoint.startsWith('ep_')) throw notFound('Endpoint');
        const pathUid = uid.safeParse(params.endpoint);
        if (!pathUid.success) throw invalid(['path', 'endpoint'], pathUid.error.issues[0].message);
        const ep = await createEndpoint(
          em,
          app,
          { ...change, uid: change.uid ?? params.endpoint },
          writeDeps,
        );
        await events.created(app, ep);
        return created(endpointOut(ep));
      }
      const wasDisabled = existing.disabled;
      const ep = await updateEndpoint(em, existing, change, writeDeps);
      await events.updated(app, ep, wasDisabled);
      return ok(endpointOut(ep));
    },
  );

  defineRoute(
    router,
    {
      method: 'patch',
      path: '/app/:app/endpoint/:endpoint',
      operationId: 'v1.endpoint.patch',
      summary: 'Change some fields of an endpoint',
      tag: TAG,
      params: endpointParams,
      body: endpointPatch,
      responses: {
        200: { description: 'Updated', schema: endpointOutSchema },
        404: { description: 'Not found' },
        409: { description: 'The uid belongs to another endpoint of this application' },
      },
    },
    async ({ req, params, body }) => {
      const { em, app, endpoint: existing } = await lookup(orm, req, params);
      const wasDisabled = existing.disabled;
      const ep = await updateEndpoint(em, existing, changeFrom(body, 'patch'), writeDeps);
      await events.updated(app, ep, wasDisabled);
      return ok(endpointOut(ep));
    },
  );

  defineRoute(
    router,
    {
      method: 'delete',
      path: '/app/:app/endpoint/:endpoint',
      operationId: 'v1.endpoint.delete',
      summary: 'Delete an endpoint; its running deliveries stop as cancelled',
      tag: TAG,
      params: endpointParams,
      responses: { 204: { description: 'Deleted' }, 404: { description: 'Not found' } },
    },
    async ({ req, params }) => {
      const { app, endpoint: ep } = await lookup(orm, req, params);
      // Gone from the API at once; DeleteResources stops its deliveries and removes their rows.
      await startDeletion(deps, { appId: app.id, endpointId: ep.id }, async (conn, ctx) => {
        const deleted = await conn.execute<QueryResult>(
          'delete from endpoints where id = ? and app_id = ?',
          [ep.id, app.id],
          'run',
          ctx as never,
        );
        return deleted.affectedRows > 0;
      });
      await events.deleted(app, ep);
      return noContent();
    },
  );

  secretRoutes(router, deps);
  headerRoutes(router, deps);
  statsRoutes(router, deps);
  sendExampleRoutes(router, deps);
  retryPendingRoutes(router, deps);
  return router;
}
