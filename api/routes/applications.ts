import { Router } from 'express';
import { z } from 'zod';
import type { QueryResult } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { ApplicationSchema, type Application } from '../../src/db/entities';
import { newId } from '../../src/ids';
import type { ApiDeps } from '../context';
import { paginationQuery } from '../pagination';
import { findApp } from '../resolve';
import { appPath, created, listPage, lookup, noContent, ok, orConflict, Where } from '../resource';
import { defineRoute } from '../route';
import { startDeletion } from './deletion';
import { appIn, appListOut, appOut, appOutSchema, appPatch, type AppIn } from './applications-schema';

const TAG = 'Application';
const boolFlag = z.enum(['true', 'false']);

const listQuery = paginationQuery.extend({
  iterator: z
    .string()
    .regex(/^-?app_[0-9A-Za-z]{1,64}$/, 'must be an iterator returned by a previous page')
    .nullish(),
  exclude_apps_with_no_endpoints: boolFlag.optional(),
  exclude_apps_with_disabled_endpoints: boolFlag.optional(),
});

/** `throttleRate` is Svix's current name, `rateLimit` the one 1.x SDKs also send. */
const rateOf = (b: { throttleRate?: number | null; rateLimit?: number | null }) =>
  b.throttleRate ?? b.rateLimit ?? null;

const uidTaken = (uid: string | null) => `An application with uid "${uid}" already exists`;

/** Inserts an application; a taken uid is a 409. Flushes on a fork so a failure leaves `em` clean. */
export async function insertApp(
  em: EntityManager,
  input: AppIn,
  uid: string | null = input.uid ?? null,
): Promise<Application> {
  const fork = em.fork();
  const now = new Date();
  const app = fork.create(ApplicationSchema, {
    id: newId('app', now.getTime()),
    uid,
    name: input.name,
    rateLimit: rateOf(input),
    metadata: input.metadata ?? {},
    webhooksEnabled: input.webhooksEnabled ?? true,
    retentionDays: input.retentionDays ?? null,
    createdAt: now,
    updatedAt: now,
  });
  await orConflict(fork.flush(), uidTaken(uid));
  return app;
}

/**
 * The application a path names, or a new one made from `input` (Svix's "create on the fly"
 * for messages and portal access). A path that is not an `app_` id becomes the new uid.
 */
export async function findOrCreateApp(
  em: EntityManager,
  idOrUid: string,
  input: AppIn,
): Promise<{ app: Application; created: boolean }> {
  const byPath = async () =>
    idOrUid.startsWith('app_')
      ? em.fork().findOne(ApplicationSchema, { id: idOrUid, deletedAt: null })
      : em.fork().findOne(ApplicationSchema, { uid: idOrUid, deletedAt: null });
  const existing = await byPath();
  if (existing) return { app: existing, created: false };
  const uid = idOrUid.startsWith('app_') ? (input.uid ?? null) : idOrUid;
  try {
    return { app: await insertApp(em, input, uid), created: true };
  } catch (err) {
    // Lost a race with a concurrent create of the same uid: that one is the application.
    const winner = uid ? await em.fork().findOne(ApplicationSchema, { uid }) : null;
    if (winner) return { app: winner, created: false };
    throw err;
  }
}

function rowToApp(r: Record<string, unknown>): Application {
  return {
    id: r.id as string,
    uid: (r.uid as string) ?? null,
    name: r.name as string,
    rateLimit: (r.rate_limit as number) ?? null,
    metadata: (r.metadata as Record<string, string>) ?? {},
    webhooksEnabled: r.webhooks_enabled as boolean,
    retentionDays: (r.retention_days as number) ?? null,
    createdAt: new Date(r.created_at as string),
    updatedAt: new Date(r.updated_at as string),
  };
}

/**
 * Applications (Svix's /api/v1/app). An app token may read its own application only;
 * everything else here is the operator's (admin token): the rate, retention and the
 * `webhooksEnabled` switch are not the tenant's to change.
 */
export function applicationsRouter(deps: ApiDeps): Router {
  const { orm } = deps;
  const router = Router();

  defineRoute(
    router,
    {
      method: 'get',
      path: '/app',
      operationId: 'v1.application.list',
      summary: 'List applications, oldest first',
      tag: TAG,
      access: 'admin',
      query: listQuery,
      responses: { 200: { description: 'A page of applications', schema: appListOut } },
    },
    async ({ query: q }) =>
      listPage(
        q,
        'ascending',
        (ks) => {
          const where = new Where('a.deleted_at is null')
            .after(ks, 'a.id')
            .when(
              q.exclude_apps_with_no_endpoints === 'true',
              'exists (select 1 from endpoints e where e.app_id = a.id)',
            )
            .when(
              q.exclude_apps_with_disabled_endpoints === 'true',
              'not exists (select 1 from endpoints e where e.app_id = a.id and e.disabled)',
            );
          return orm.em
            .fork()
            .getConnection()
            .execute<Array<Record<string, unknown>>>(
              `select a.* from applications a where ${where} order by a.id ${ks.dir} limit ?`,
              [...where.args, ks.fetch],
            );
        },
        (r) => r.id as string,
        (r) => appOut(rowToApp(r)),
      ),
  );

  defineRoute(
    router,
    {
      method: 'post',
      path: '/app',
      operationId: 'v1.application.create',
      summary: 'Create an application',
      tag: TAG,
      access: 'admin',
      idempotent: true,
      query: z.object({ get_if_exists: boolFlag.default('false') }),
      body: appIn,
      responses: {
        200: {
          description: '`get_if_exists=true` and an application with this uid exists: that one',
          schema: appOutSchema,
        },
        201: { description: 'Created', schema: appOutSchema },
        409: { description: 'An application with this uid exists' },
      },
    },
    async ({ query, body }) => {
      const em = orm.em.fork();
      if (query.get_if_exists === 'true' && body.uid) {
        const found = await findOrCreateApp(em, body.uid, body);
        return (found.created ? created : ok)(appOut(found.app));
      }
      return created(appOut(await insertApp(em, body)));
    },
  );

  defineRoute(
    router,
    {
      method: 'get',
      path: '/app/:app',
      operationId: 'v1.application.get',
      summary: 'Get an application by id or uid',
      tag: TAG,
      params: appPath,
      responses: {
        200: { description: 'The application', schema: appOutSchema },
        404: { description: 'Not found' },
      },
    },
    async ({ req, params }) => ok(appOut((await lookup(orm, req, params)).app)),
  );

  defineRoute(
    router,
    {
      method: 'put',
      path: '/app/:app',
      operationId: 'v1.application.update',
      summary: 'Update an application, or create it if it does not exist',
      tag: TAG,
      access: 'admin',
      params: appPath,
      body: appIn,
      responses: {
        200: { description: 'Updated', schema: appOutSchema },
        201: { description: 'Created', schema: appOutSchema },
        409: { description: 'The uid belongs to another application' },
      },
    },
    async ({ req, params, body }) => {
      const em = orm.em.fork();
      const existing = await findApp(em, req, params.app).catch(() => null);
      if (!existing) {
        const uid = body.uid ?? (params.app.startsWith('app_') ? null : params.app);
        return created(appOut(await insertApp(em, body, uid)));
      }
      // A full replace of Svix's fields. Hookflow's own fields (and a uid left out) keep
      // their value, so a Svix SDK's update does not silently switch webhooks back on.
      if (body.uid !== undefined) existing.uid = body.uid;
      existing.name = body.name;
      existing.rateLimit = rateOf(body);
      existing.metadata = body.metadata ?? {};
      if (body.webhooksEnabled !== undefined) existing.webhooksEnabled = body.webhooksEnabled;
      if (body.retentionDays !== undefined) existing.retentionDays = body.retentionDays;
      return ok(appOut(await save(em, existing)));
    },
  );

  defineRoute(
    router,
    {
      method: 'patch',
      path: '/app/:app',
      operationId: 'v1.application.patch',
      summary: 'Change some fields of an application',
      tag: TAG,
      access: 'admin',
      params: appPath,
      body: appPatch,
      responses: {
        200: { description: 'Updated', schema: appOutSchema },
        404: { description: 'Not found' },
        409: { description: 'The uid belongs to another application' },
      },
    },
    async ({ req, params, body }) => {
      const { em, app } = await lookup(orm, req, params);
      if (body.name !== undefined) app.name = body.name;
      if (body.uid !== undefined) app.uid = body.uid;
      if (body.throttleRate !== undefined) app.rateLimit = body.throttleRate;
      else if (body.rateLimit !== undefined) app.rateLimit = body.rateLimit;
      if (body.metadata !== undefined) app.metadata = body.metadata;
      // Switching webhooks back on does not send what was stored meanwhile: replay-missing does.
      if (body.webhooksEnabled !== undefined) app.webhooksEnabled = body.webhooksEnabled;
      if (body.retentionDays !== undefined) app.retentionDays = body.retentionDays;
      return ok(appOut(await save(em, app)));
    },
  );

  defineRoute(
    router,
    {
      method: 'delete',
      path: '/app/:app',
      operationId: 'v1.application.delete',
      summary:
        'Delete an application with its endpoints, messages and attempts; the rows go in the background (task `application.delete`)',
      tag: TAG,
      access: 'admin',
      params: appPath,
      responses: { 204: { description: 'Deleted' }, 404: { description: 'Not found' } },
    },
    async ({ req, params }) => {
      const { app } = await lookup(orm, req, params);
      // Hidden at once (and its uid freed); DeleteResources removes its rows in batches.
      await startDeletion(deps, { appId: app.id }, async (conn, ctx) => {
        const hidden = await conn.execute<QueryResult>(
          'update applications set deleted_at = now(), uid = null where id = ? and deleted_at is null',
          [app.id],
          'run',
          ctx as never,
        );
        return hidden.affectedRows > 0;
      });
      return noContent();
    },
  );

  return router;
}

async function save(em: EntityManager, app: Application): Promise<Application> {
  app.updatedAt = new Date();
  await orConflict(em.flush(), uidTaken(app.uid));
  return app;
}
