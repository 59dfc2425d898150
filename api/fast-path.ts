import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import querystring from 'node:querystring';
import type { ApiRequest } from './context';
import type { MessageCreate } from './routes/messages';
import { messageCreateInput } from './routes/messages';
import { requiredBody, send } from './route';
import { parse } from './validate';

type Next = (err?: unknown) => void;

/** The steps the Express app runs for message create, one instance each, shared with it. */
export interface MessageCreateSteps {
  securityHeaders: (req: IncomingMessage, res: ServerResponse, next: Next) => void;
  json: (req: IncomingMessage, res: ServerResponse, next: Next) => void;
  authenticate: (req: ApiRequest, res: ServerResponse, next: Next) => Promise<void>;
  rateLimit: (req: IncomingMessage, res: ServerResponse, next: Next) => void;
  createMessage: MessageCreate;
  errors: (err: unknown, req: IncomingMessage, res: ServerResponse, next: Next) => void;
}

/**
 * `POST /api/v1/app/{app}/msg` as clients write it. Other spellings that Express also routes
 * (a percent-escaped app, other letter case, a trailing slash) go through Express, which
 * decodes and matches them its own way.
 */
const MESSAGE_CREATE = /^\/api\/v1\/app\/([^/%?#]+)\/msg(?:\?(.*))?$/;

const noop = () => {};

/**
 * The API's request listener: message create, the hot path, runs the same steps as through
 * Express and in the same order (security headers, JSON body, bearer auth, rate limit,
 * validation of path, query and body, the handler, the error handler), without Express's
 * app and router around them, which cost about half of the API's CPU per accepted message
 * (docs/benchmarks-history.md, round 5). Every other request goes to `app`.
 */
export function withMessageCreateFastPath(app: RequestListener, steps: MessageCreateSteps) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const match = req.method === 'POST' ? MESSAGE_CREATE.exec(req.url ?? '') : null;
    if (!match) return void app(req, res);
    createMessage(req as ApiRequest, res, match[1], match[2] ?? '', steps).catch((err) => {
      // As Express does with an error after the answer began: the connection is closed.
      if (res.headersSent) res.destroy();
      else steps.errors(err, req, res, noop);
    });
  };
}

async function createMessage(
  req: ApiRequest,
  res: ServerResponse,
  app: string,
  query: string,
  steps: MessageCreateSteps,
): Promise<void> {
  // Set by Express before its first step; idempotency keys are bound to it.
  req.originalUrl = req.url!;
  steps.securityHeaders(req, res, noop);
  await new Promise<void>((resolve, reject) =>
    steps.json(req, res, (err) => (err ? reject(err) : resolve())),
  );
  await steps.authenticate(req, res, noop);
  steps.rateLimit(req, res, noop);
  const input = messageCreateInput;
  const result = await steps.createMessage({
    req,
    params: parse(input.params, { app }, 'path'),
    // Express's "simple" query parser is node:querystring.
    query: parse(input.query, querystring.parse(query), 'query'),
    body: parse(input.body, requiredBody(req), 'body'),
  });
  send(res, result ?? null);
}
