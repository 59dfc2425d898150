import type { ServerResponse } from 'node:http';
import type { Request, Response, Router } from 'express';
import { z } from 'zod';
import { registry } from './openapi/registry';
import { parse } from './validate';
import { requireAdmin } from './middleware/auth';
import { IdempotencyStore } from './middleware/idempotency';
import { stringify } from '../src/domain/raw-json';
import { invalid } from './http-errors';
import { writeJson } from './json-response';
import type { ApiRequest } from './context';
import { errorResponses, httpErrorOut, validationErrorOut, type ResponseDoc } from './openapi/errors';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface RouteSpec<
  P extends z.ZodType = z.ZodType,
  Q extends z.ZodType = z.ZodType,
  B extends z.ZodType = z.ZodType,
> {
  method: Method;
  /** Express path relative to /api/v1, e.g. `/app/:app/msg`. */
  path: string;
  operationId: string;
  summary: string;
  tag: string;
  params?: P;
  query?: Q;
  body?: B;
  /**
   * Status → description and optional response schema. The errors every route of its
   * kind answers (401, 404, 422, 429, …) are added from the rest of the spec.
   */
  responses: Record<number, ResponseDoc>;
  /** `admin`: app tokens get 403; `any` (default): admin or an app token (scoped by findApp). */
  access?: 'admin' | 'any';
  /**
   * Accepts the `idempotency-key` header (POST routes). `true`: the response is recorded
   * around the handler; `'handler'`: the handler records it itself, in its own transaction.
   */
  idempotent?: boolean | 'handler';
  /**
   * The response holds a secret: the idempotency record keeps its status only, and a
   * replay answers what this returns (e.g. the secret as it is now).
   */
  replaySecret?: (ctx: { req: Request; params: z.infer<P> }) => Promise<RouteResult>;
}

export interface RouteContext<P, Q, B> {
  req: Request;
  res: Response;
  params: P;
  query: Q;
  body: B;
}

export type RouteResult = { status: number; body?: unknown; headers?: Record<string, string> } | void;

const openApiPath = (p: string) => `/api/v1${p.replace(/:([A-Za-z_]+)/g, '{$1}')}`;

/**
 * One route: its validation (params, query, body with zod; a failure is a 422 saying
 * where) and its OpenAPI entry come from the same schemas. The handler returns
 * `{status, body}` or writes the response itself.
 */
export function defineRoute<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType>(
  router: Router,
  spec: RouteSpec<P, Q, B>,
  handler: (ctx: RouteContext<z.infer<P>, z.infer<Q>, z.infer<B>>) => Promise<RouteResult>,
): void {
  registry.registerPath({
    method: spec.method,
    path: openApiPath(spec.path),
    operationId: spec.operationId,
    summary: spec.summary,
    tags: [spec.tag],
    security: [{ HTTPBearer: [] }],
    request: {
      params: spec.params as never,
      query: spec.query as never,
      body: spec.body
        ? { content: { 'application/json': { schema: spec.body } }, required: true }
        : undefined,
      headers: spec.idempotent
        ? z.object({
            'idempotency-key': z
              .string()
              .regex(/^[\x21-\x7e]{1,256}$/)
              .optional(),
          })
        : undefined,
    },
    responses: Object.fromEntries(
      Object.entries(documentedResponses(spec)).map(([status, r]) => [
        status,
        {
          description: r.description,
          ...(r.schema ? { content: { 'application/json': { schema: r.schema } } } : {}),
        },
      ]),
    ),
  });

  router[spec.method](spec.path, async (req: Request, res: Response) => {
    if (spec.access === 'admin') requireAdmin(req);
    const run = async () => {
      const params = spec.params ? parse(spec.params, req.params, 'path') : req.params;
      const query = spec.query ? parse(spec.query, req.query, 'query') : req.query;
      const body = spec.body ? parse(spec.body, requiredBody(req), 'body') : req.body;
      const result = await handler({ req, res, params, query, body } as RouteContext<
        z.infer<P>,
        z.infer<Q>,
        z.infer<B>
      >);
      return res.headersSent || !result ? null : result;
    };
    const key = spec.idempotent === true ? IdempotencyStore.header(req) : undefined;
    if (!key) return send(res, await run());
    const store = req.app.locals.idempotency as IdempotencyStore | undefined;
    if (!store) throw new Error('idempotent route on an app without app.locals.idempotency');
    let fresh: Awaited<ReturnType<typeof run>> = null;
    const result = await store.run(
      IdempotencyStore.keyOf(req, key),
      async () => {
        fresh = await run();
        return fresh && spec.replaySecret ? { status: fresh.status } : fresh;
      },
      IdempotencyStore.fingerprintOf(req),
    );
    if (!spec.replaySecret || !result) return send(res, result);
    if (!result.replayed) return send(res, fresh);
    const params = (spec.params ? parse(spec.params, req.params, 'path') : req.params) as z.infer<P>;
    const again = await spec.replaySecret({ req, params });
    send(res, again ? { ...again, replayed: true } : null);
  });
}

/**
 * The JSON body of a route that takes one. No body at all (or one that is not JSON, which
 * express.json leaves unread) is a 422, not an empty object: a PATCH without a body
 * changing nothing and answering 200 would hide the caller's mistake.
 */
export function requiredBody(req: ApiRequest): unknown {
  const empty = req.body === undefined || req.headers['content-length'] === '0';
  if (empty) throw invalid(['body'], 'a JSON body is required (Content-Type: application/json)', 'missing');
  return req.body;
}

/** The route's own responses, then the errors its kind answers; an error without a schema gets its body's. */
function documentedResponses(spec: RouteSpec): Record<number, ResponseDoc> {
  const generic = errorResponses({
    admin: spec.access === 'admin',
    params: !!spec.params,
    validates: !!(spec.params || spec.query || spec.body || spec.idempotent),
    body: !!spec.body,
    idempotent: !!spec.idempotent,
  });
  const out: Record<number, ResponseDoc> = { ...generic };
  for (const [status, r] of Object.entries(spec.responses)) {
    const code = Number(status);
    out[code] = {
      description: r.description,
      schema: r.schema ?? (code === 422 ? validationErrorOut : code >= 400 ? httpErrorOut : undefined),
    };
  }
  return out;
}

/**
 * Sends a result; a RawJson in the body (a message payload) is written as its exact text.
 * A write is answered with Node's own response API (the API's fast path has no Express
 * response); a read through Express, whose ETag and freshness checks serve conditional GETs.
 */
export function send(
  res: ServerResponse,
  result: { status: number; body?: unknown; headers?: Record<string, string>; replayed?: boolean } | null,
): void {
  if (res.headersSent || !result) return;
  const headers = { ...result.headers, ...(result.replayed ? { 'idempotent-replayed': 'true' } : {}) };
  const text = result.body === undefined ? undefined : stringify(result.body)!;
  const method = res.req.method;
  if (method === 'GET' || method === 'HEAD') {
    const r = (res as Response).set(headers).status(result.status);
    if (text === undefined) r.end();
    else r.type('application/json').send(text);
  } else if (text === undefined) res.writeHead(result.status, headers).end();
  else writeJson(res, result.status, text, headers);
}
