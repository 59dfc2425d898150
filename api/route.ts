import type { Request, Response, Router } from 'express';
import { z } from 'zod';
import { registry } from './openapi/registry';
import { parse } from './validate';
import { requireAdmin } from './middleware/auth';
import { IdempotencyStore } from './middleware/idempotency';
import { stringify } from '../src/domain/raw-json';

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
  /** Status → description and optional response schema. */
  responses: Record<number, { description: string; schema?: z.ZodType }>;
  /** `admin`: app tokens get 403; `any` (default): admin or an app token (scoped by findApp). */
  access?: 'admin' | 'any';
  /**
   * Accepts the `idempotency-key` header (POST routes). `true`: the response is recorded
   * around the handler; `'handler'`: the handler records it itself, in its own transaction.
   */
  idempotent?: boolean | 'handler';
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
        ? z.object({ 'idempotency-key': z.string().min(1).max(256).optional() })
        : undefined,
    },
    responses: Object.fromEntries(
      Object.entries(spec.responses).map(([status, r]) => [
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
      const body = spec.body ? parse(spec.body, req.body ?? {}, 'body') : req.body;
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
    const result = await store.run(
      IdempotencyStore.keyOf(req, key),
      run,
      IdempotencyStore.fingerprintOf(req),
    );
    send(res, result);
  });
}

/** Sends a result; a RawJson in the body (a message payload) is written as its exact text. */
export function send(
  res: Response,
  result: { status: number; body?: unknown; headers?: Record<string, string>; replayed?: boolean } | null,
): void {
  if (res.headersSent || !result) return;
  if (result.headers) res.set(result.headers);
  if (result.replayed) res.set('idempotent-replayed', 'true');
  if (result.body === undefined) return void res.status(result.status).end();
  const text = stringify(result.body)!;
  // Express's send adds an ETag (a SHA-1 of the body) and freshness checks, which serve
  // conditional GETs only: a write answers directly (message create is the hot path).
  if (res.req.method !== 'GET' && res.req.method !== 'HEAD') {
    res.statusCode = result.status;
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.setHeader('content-length', Buffer.byteLength(text));
    res.end(text);
  } else res.status(result.status).type('application/json').send(text);
}
