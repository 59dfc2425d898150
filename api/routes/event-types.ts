import { Router } from 'express';
import { z } from 'zod';
import type { EntityManager } from '@mikro-orm/postgresql';
import { EventTypeSchema, type EventType } from '../../src/db/entities';
import type { ApiDeps } from '../context';
import { conflict, invalid, notFound } from '../http-errors';
import { paginationQuery } from '../pagination';
import { afterCursor, created, listOut, listPage, noContent, ok, orConflict } from '../resource';
import { defineRoute } from '../route';
import { eventTypeName } from '../schemas';
import { exampleOf } from './endpoints/model';

const TAG = 'Event Type';
const flagName = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[a-zA-Z0-9\-_.]+$/, 'must contain only letters, digits, "-", "_" and "."');
const jsonObject = z.record(z.string(), z.unknown(), { message: 'must be a JSON object' });

/**
 * Svix's event type fields. `featureFlags` (newer SDKs) is stored as the single
 * `featureFlag` Hookflow keeps; `example` is Hookflow's: the payload the portal shows and
 * send-example sends.
 */
const fields = {
  description: z.string().max(8192),
  archived: z.boolean().optional(),
  deprecated: z.boolean().optional(),
  schemas: z.record(z.string().max(32), jsonObject).nullish(),
  featureFlag: flagName.nullish(),
  featureFlags: z.array(flagName).max(1, 'Hookflow keeps at most one feature flag per event type').nullish(),
  groupName: z.string().min(1).max(256).nullish(),
  example: jsonObject.nullish(),
};

export const eventTypeIn = z
  .object({ name: eventTypeName, ...fields })
  .strict()
  .meta({ id: 'EventTypeIn' });
const eventTypeUpdate = z.object(fields).strict().meta({ id: 'EventTypeUpdate' });
const eventTypePatch = z
  .object({ ...fields, description: fields.description.optional() })
  .strict()
  .meta({ id: 'EventTypePatch' });
type Fields = z.infer<typeof eventTypePatch>;

export const eventTypeOutSchema = z
  .object({
    name: z.string(),
    description: z.string(),
    archived: z.boolean(),
    deprecated: z.boolean(),
    schemas: z.record(z.string(), z.unknown()).nullable(),
    featureFlag: z.string().nullable(),
    featureFlags: z.array(z.string()).nullable(),
    groupName: z.string().nullable(),
    example: z.record(z.string(), z.unknown()).nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'EventTypeOut' });
const eventTypeListOut = listOut(eventTypeOutSchema, 'ListResponse_EventTypeOut_');

const nameParams = z.object({ event_type_name: eventTypeName });
const boolFlag = z.enum(['true', 'false']);

export function eventTypeOut(et: EventType, withContent = true) {
  return {
    name: et.name,
    description: et.description,
    archived: et.archived,
    deprecated: et.deprecated,
    schemas: withContent ? (et.schemas ?? null) : null,
    featureFlag: et.featureFlag,
    featureFlags: et.featureFlag ? [et.featureFlag] : null,
    groupName: et.groupName,
    example: exampleOf(et),
    createdAt: new Date(et.createdAt).toISOString(),
    updatedAt: new Date(et.updatedAt).toISOString(),
  };
}

/** Copies the given fields; on a full update (PUT, create) a missing field takes its default. */
function assign(et: EventType, body: Fields, full: boolean): void {
  const pick = <K extends keyof Fields, D>(k: K, d: D) =>
    body[k] !== undefined ? body[k] : full ? d : undefined;
  const set = <K extends keyof EventType>(k: K, v: EventType[K] | undefined) => {
    if (v !== undefined) et[k] = v;
  };
  if (body.featureFlag != null && body.featureFlags?.length && body.featureFlags[0] !== body.featureFlag)
    throw invalid(['body', 'featureFlags'], 'must agree with featureFlag');
  const flags = body.featureFlags === undefined ? undefined : (body.featureFlags?.[0] ?? null);
  set('description', pick('description', ''));
  set('archived', pick('archived', false));
  set('deprecated', pick('deprecated', false));
  set('schemas', pick('schemas', null) as EventType['schemas'] | undefined);
  set(
    'featureFlag',
    body.featureFlag !== undefined ? body.featureFlag : flags !== undefined ? flags : full ? null : undefined,
  );
  set('groupName', pick('groupName', null));
  set('example', pick('example', null) as EventType['example'] | undefined);
  et.updatedAt = new Date();
}

function blank(name: string): EventType {
  const now = new Date();
  return {
    name,
    description: '',
    schemas: null,
    example: null,
    archived: false,
    deprecated: false,
    featureFlag: null,
    groupName: null,
    createdAt: now,
    updatedAt: now,
  };
}

const nameTaken = (name: string) => `An event type named "${name}" already exists`;

async function insert(em: EntityManager, et: EventType): Promise<EventType> {
  em.persist(em.create(EventTypeSchema, et));
  await orConflict(em.flush(), nameTaken(et.name));
  return et;
}

async function find(em: EntityManager, name: string): Promise<EventType> {
  const et = await em.findOne(EventTypeSchema, { name });
  if (!et) throw notFound('Event type');
  return et;
}

/**
 * The event type catalog (org-wide). Only the admin token writes it; app tokens may read
 * it because the portal shows it to tenants.
 */
export function eventTypesRouter({ orm }: ApiDeps): Router {
  const router = Router();

  defineRoute(
    router,
    {
      method: 'get',
      path: '/event-type',
      operationId: 'v1.event-type.list',
      summary: 'List event types by name',
      tag: TAG,
      query: paginationQuery.extend({
        iterator: z
          .string()
          .max(257)
          .regex(/^-?[a-zA-Z0-9\-_.]+$/, 'must be an iterator returned by a previous page')
          .nullish(),
        include_archived: boolFlag.default('false'),
        with_content: boolFlag.default('false'),
      }),
      responses: { 200: { description: 'A page of event types', schema: eventTypeListOut } },
    },
    async ({ query: q }) =>
      listPage(
        q,
        'ascending',
        (ks) => {
          const where: Record<string, unknown> = {};
          if (ks.after) where.name = afterCursor(ks);
          if (q.include_archived !== 'true') where.archived = false;
          return orm.em.fork().find(EventTypeSchema, where, { orderBy: { name: ks.dir }, limit: ks.fetch });
        },
        (r) => r.name,
        (r) => eventTypeOut(r, q.with_content === 'true'),
      ),
  );

  defineRoute(
    router,
    {
      method: 'post',
      path: '/event-type',
      operationId: 'v1.event-type.create',
      summary: 'Create an event type; creating an archived one brings it back',
      tag: TAG,
      access: 'admin',
      idempotent: true,
      body: eventTypeIn,
      responses: {
        201: { description: 'Created', schema: eventTypeOutSchema },
        409: { description: 'An event type with this name exists' },
      },
    },
    async ({ body }) => {
      const em = orm.em.fork();
      const { name, ...rest } = body;
      const existing = await em.findOne(EventTypeSchema, { name });
      if (existing && !existing.archived) throw conflict(nameTaken(name));
      if (existing) {
        // As Svix does: re-creating an archived event type un-archives it with the new fields.
        assign(existing, rest, true);
        await em.flush();
        return created(eventTypeOut(existing));
      }
      const et = blank(name);
      assign(et, rest, true);
      return created(eventTypeOut(await insert(em, et)));
    },
  );

  defineRoute(
    router,
    {
      method: 'get',
      path: '/event-type/:event_type_name',
      operationId: 'v1.event-type.get',
      summary: 'Get an event type (archived ones too)',
      tag: TAG,
      params: nameParams,
      responses: {
        200: { description: 'The event type', schema: eventTypeOutSchema },
        404: { description: 'Not found' },
      },
    },
    async ({ params }) => ok(eventTypeOut(await find(orm.em.fork(), params.event_type_name))),
  );

  defineRoute(
    router,
    {
      method: 'put',
      path: '/event-type/:event_type_name',
      operationId: 'v1.event-type.update',
      summary: 'Replace an event type, or create it if it does not exist',
      tag: TAG,
      access: 'admin',
      params: nameParams,
      body: eventTypeUpdate,
      responses: {
        200: { description: 'Updated', schema: eventTypeOutSchema },
        201: { description: 'Created', schema: eventTypeOutSchema },
        409: { description: 'Created at the same time by another request' },
      },
    },
    async ({ params, body }) => {
      const em = orm.em.fork();
      const existing = await em.findOne(EventTypeSchema, { name: params.event_type_name });
      if (existing) {
        assign(existing, body, true);
        await em.flush();
        return ok(eventTypeOut(existing));
      }
      const et = blank(params.event_type_name);
      assign(et, body, true);
      return created(eventTypeOut(await insert(em, et)));
    },
  );

  defineRoute(
    router,
    {
      method: 'patch',
      path: '/event-type/:event_type_name',
      operationId: 'v1.event-type.patch',
      summary: 'Change some fields of an event type',
      tag: TAG,
      access: 'admin',
      params: nameParams,
      body: eventTypePatch,
      responses: {
        200: { description: 'Updated', schema: eventTypeOutSchema },
        404: { description: 'Not found' },
      },
    },
    async ({ params, body }) => {
      const em = orm.em.fork();
      const et = await find(em, params.event_type_name);
      assign(et, body, false);
      await em.flush();
      return ok(eventTypeOut(et));
    },
  );

  defineRoute(
    router,
    {
      method: 'delete',
      path: '/event-type/:event_type_name',
      operationId: 'v1.event-type.delete',
      summary: 'Archive an event type, or delete it for good with `expunge=true`',
      tag: TAG,
      access: 'admin',
      params: nameParams,
      query: z.object({ expunge: boolFlag.default('false') }),
      responses: { 204: { description: 'Archived or deleted' }, 404: { description: 'Not found' } },
    },
    async ({ params, query }) => {
      const em = orm.em.fork();
      const et = await find(em, params.event_type_name);
      if (query.expunge === 'true') em.remove(et);
      else {
        et.archived = true;
        et.updatedAt = new Date();
      }
      await em.flush();
      return noContent();
    },
  );

  return router;
}
