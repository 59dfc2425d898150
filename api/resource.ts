/**
 * The pieces every resource route is made of, so that a file in api/routes/ holds only its
 * resource's rules (as each resource module of Svix's server holds only its handlers). A
 * route is `defineRoute(router, spec, handler)` (api/route.ts: zod validation and the
 * OpenAPI entry from one spec), for instance:
 *
 *   defineRoute(router, { method: 'get', path: '/app/:app/endpoint', params: appPath, query: paginationQuery,
 *       responses: { 200: { description: 'A page of endpoints', schema: listOut(endpointOutSchema) } }, … },
 *     async ({ req, params, query }) => {
 *       const { em, app } = await lookup(orm, req, params);
 *       return listPage(query, 'ascending', (ks) => rowsOf(em, app, ks), (row) => row.id, endpointOut);
 *     });
 *
 * - `appPath`, `endpointPath`, `msgPath`: the path parameters, each an id or a uid (or eventId).
 * - `lookup(orm, req, params)` → `{ em, app, msg?, endpoint? }`: what the path names; 404s.
 * - `listOut(item, id?)`, `listPage(query, order, fetch, key, out)`: Svix's cursor lists.
 * - `new Where(sql, ...args)`, `.and()`, `.when(given, …)`, `.after(ks, column)`: a list's SQL.
 * - `ok`, `created`, `accepted`, `noContent`: a handler's answer.
 * - `orConflict(write, detail)`: a unique violation (a uid or name taken) answers 409.
 * Other errors are thrown from api/http-errors.ts and answered in Svix's shapes.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Request } from 'express';
import { z } from 'zod';
import type { Application, Endpoint } from '../src/db/entities';
import type { Orm } from '../src/db/orm';
import type { StoredMessage } from '../src/domain/ingest';
import { conflict } from './http-errors';
import { keyset, page, type Keyset, type Page, type PaginationQuery } from './pagination';
import { findApp, findEndpoint, findMessage } from './resolve';

export const idOrUid = z.string().min(1).max(256);
/** Svix's paths name an application, and under it an endpoint or a message, by id or uid. */
export const appPath = z.object({ app: idOrUid });
export const endpointPath = appPath.extend({ endpoint: idOrUid });
export const msgPath = appPath.extend({ msg: idOrUid });

type WithMessage<P> = P extends { msg: string } ? { msg: StoredMessage } : unknown;
type WithEndpoint<P> = P extends { endpoint: string } ? { endpoint: Endpoint } : unknown;
export type Named<P> = { em: EntityManager; app: Application } & WithMessage<P> & WithEndpoint<P>;

/**
 * The application a path names (within an app token's reach), then its message and its
 * endpoint when the path names them; the first that does not exist is a 404. `em` is a
 * fork of its own for the rest of the request.
 */
export async function lookup<P extends { app: string; msg?: string; endpoint?: string }>(
  orm: Orm,
  req: Request,
  params: P,
): Promise<Named<P>> {
  const em = orm.em.fork();
  const app = await findApp(em, req, params.app);
  const msg = params.msg === undefined ? undefined : await findMessage(em, app, params.msg);
  const endpoint = params.endpoint === undefined ? undefined : await findEndpoint(em, app, params.endpoint);
  return { em, app, msg, endpoint } as Named<P>;
}

/** The schema of one page of a list; `id` names it as a component of the OpenAPI document. */
export function listOut(item: z.ZodType, id?: string) {
  const schema = z.object({
    data: z.array(item),
    iterator: z.string().nullable(),
    prevIterator: z.string().nullable(),
    done: z.boolean(),
  });
  return id ? schema.meta({ id }) : schema;
}

/**
 * One page of a list, newest or oldest first by default (`order`). `fetch` reads up to
 * `ks.fetch` rows past `ks.after` (compared with `ks.op`), sorted `ks.dir` on the column the
 * cursor walks; `key` is a row's value of that column, `out` the row as the API shows it.
 */
export async function listPage<R, T>(
  q: PaginationQuery,
  order: 'ascending' | 'descending',
  fetch: (ks: Keyset) => Promise<R[]>,
  key: (row: R) => string,
  out: (row: R) => T,
): Promise<Answer<Page<T>>> {
  const ks = keyset(q, order);
  return ok(page(await fetch(ks), ks, q.limit, key, out));
}

/** The conditions of a list's SQL: `${w}` is them joined with `and`, `w.args` their values in order. */
export class Where {
  private readonly parts: string[] = [];
  readonly args: unknown[] = [];

  constructor(sql?: string, ...args: unknown[]) {
    if (sql) this.and(sql, ...args);
  }

  and(sql: string, ...args: unknown[]): this {
    this.parts.push(sql);
    this.args.push(...args);
    return this;
  }

  /** A filter the query may leave out: added only when `given`. */
  when(given: boolean, sql: string, ...args: unknown[]): this {
    return given ? this.and(sql, ...args) : this;
  }

  /** Svix's cursor: the rows past the iterator, in the page's direction. */
  after(ks: Keyset, column: string): this {
    return this.when(!!ks.after, `${column} ${ks.op} ?`, ks.after);
  }

  toString(): string {
    return this.parts.join(' and ') || 'true';
  }
}

/** The cursor as a MikroORM condition on the cursor's column (none on the first page). */
export const afterCursor = (ks: Keyset) =>
  !ks.after ? undefined : ks.op === '>' ? { $gt: ks.after } : { $lt: ks.after };

export interface Answer<T> {
  status: number;
  body?: T;
}
export const ok = <T>(body: T): Answer<T> => ({ status: 200, body });
export const created = <T>(body: T): Answer<T> => ({ status: 201, body });
export const accepted = <T>(body: T): Answer<T> => ({ status: 202, body });
export const noContent = (): Answer<never> => ({ status: 204 });

/** A write that breaks a unique constraint (a uid or name already taken) answers 409 with `detail`. */
export async function orConflict<T>(write: Promise<T>, detail: string): Promise<T> {
  try {
    return await write;
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict(detail);
    throw err;
  }
}

export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; name?: string };
  return e?.code === '23505' || e?.name === 'UniqueConstraintViolationException';
}
