import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NextFunction } from 'express';
import { writeJson } from '../json-response';
import type { Logger } from '../../src/logger';
import { HttpError } from '../http-errors';

/**
 * Every error becomes a Svix-shaped body; an unexpected one is a 500 without internals.
 * Written with Node's own response API, so the API's fast path answers errors the same way.
 */
export function errorHandler(log: Logger) {
  // Four parameters: that is how Express tells an error handler from a middleware.
  return (err: unknown, req: IncomingMessage, res: ServerResponse, _next: NextFunction) => {
    const json = (status: number, body: unknown, headers?: Record<string, string>) =>
      writeJson(res, status, JSON.stringify(body), headers);
    if (err instanceof HttpError) return json(err.status, err.body(), err.headers);
    const e = err as { type?: string; status?: number; message?: string };
    // body-parser's own errors: malformed JSON, too large, bad charset.
    if (e.type === 'entity.parse.failed') {
      return json(400, { code: 'bad_request', detail: `Malformed JSON body: ${e.message}` });
    }
    if (e.type === 'entity.too.large') {
      return json(413, { code: 'payload_too_large', detail: 'Request body is larger than 1 MB' });
    }
    if (e.type === 'charset.unsupported' || e.type === 'encoding.unsupported') {
      return json(415, { code: 'unsupported_media_type', detail: e.message });
    }
    if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
      return json(e.status, { code: 'bad_request', detail: e.message ?? 'Bad request' });
    }
    if (isDatabaseDown(err)) {
      return json(
        503,
        { code: 'service_unavailable', detail: 'Database unavailable, try again' },
        { 'retry-after': '5' },
      );
    }
    log.error({ err, method: req.method, path: req.url?.split('?')[0] }, 'unhandled error');
    json(500, { code: 'internal_error', detail: 'Internal server error' });
  };
}

export function isDatabaseDown(err: unknown): boolean {
  const e = err as { code?: string; message?: string; name?: string };
  const codes = ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', '57P01', '57P03', '08006', '08001', '08003'];
  return (
    (!!e?.code && codes.includes(e.code)) ||
    /Connection terminated|connect ECONNREFUSED|Knex: Timeout acquiring a connection|timeout exceeded when trying to connect/i.test(
      e?.message ?? '',
    ) ||
    e?.name === 'ConnectionException'
  );
}
