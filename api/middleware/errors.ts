import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../../src/logger';
import { HttpError } from '../http-errors';

/** Every error becomes a Svix-shaped body; an unexpected one is a 500 without internals. */
export function errorHandler(log: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof HttpError) {
      res.set(err.headers).status(err.status).json(err.body());
      return;
    }
    const e = err as { type?: string; status?: number; message?: string };
    // body-parser's own errors: malformed JSON, too large, bad charset.
    if (e.type === 'entity.parse.failed') {
      res.status(400).json({ code: 'bad_request', detail: `Malformed JSON body: ${e.message}` });
      return;
    }
    if (e.type === 'entity.too.large') {
      res.status(413).json({ code: 'payload_too_large', detail: 'Request body is larger than 1 MB' });
      return;
    }
    if (e.type === 'charset.unsupported' || e.type === 'encoding.unsupported') {
      res.status(415).json({ code: 'unsupported_media_type', detail: e.message });
      return;
    }
    if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
      res.status(e.status).json({ code: 'bad_request', detail: e.message ?? 'Bad request' });
      return;
    }
    if (isDatabaseDown(err)) {
      res
        .status(503)
        .set('retry-after', '5')
        .json({ code: 'service_unavailable', detail: 'Database unavailable, try again' });
      return;
    }
    log.error({ err, method: req.method, path: req.path }, 'unhandled error');
    res.status(500).json({ code: 'internal_error', detail: 'Internal server error' });
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
