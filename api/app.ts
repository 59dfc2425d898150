import express, { type Express } from 'express';
import type { ApiDeps } from './context';
import { authenticate } from './middleware/auth';
import { errorHandler } from './middleware/errors';
import { rateLimit } from './middleware/rate-limit';
import { securityHeaders } from './middleware/security-headers';
import { notFound } from './http-errors';
import { healthRouter } from './routes/health';
import { metricsRouter } from './routes/metrics';
import { applicationsRouter } from './routes/applications';
import { eventTypesRouter } from './routes/event-types';
import { endpointsRouter } from './routes/endpoints';
import { messageCreate, messagesRouter } from './routes/messages';
import { withMessageCreateFastPath, type MessageCreateSteps } from './fast-path';
import { attemptsRouter } from './routes/attempts';
import { authRouter } from './routes/auth';
import { backgroundTasksRouter } from './routes/background-tasks';
import { replayRouter } from './routes/replay';
import { docsRouter } from './openapi/document';
import { portalRouter } from './portal';
import { IdempotencyStore } from './middleware/idempotency';
import { methodNotAllowed, type KnownRoute } from './middleware/method-not-allowed';
import { registry } from './openapi/registry';

/** Routes served outside defineRoute (the OpenAPI registry has the rest). */
const OTHER_ROUTES: KnownRoute[] = [
  { path: '/api/v1/health/ping', methods: ['GET'] },
  { path: '/api/v1/openapi.json', methods: ['GET'] },
  { path: '/docs', methods: ['GET'] },
  { path: '/metrics', methods: ['GET'] },
  { path: '/portal/*', methods: ['GET'] },
];

let known: { from: number; routes: KnownRoute[] } | null = null;

/**
 * Every path the app serves with its methods: what the 405 answers are made from. Read on
 * each request, so made again only when routes were registered since.
 */
function knownRoutes(): KnownRoute[] {
  if (known?.from === registry.definitions.length) return known.routes;
  const documented = registry.definitions.flatMap((d) =>
    d.type === 'route' ? [{ path: d.route.path, methods: [d.route.method] }] : [],
  );
  known = { from: registry.definitions.length, routes: [...documented, ...OTHER_ROUTES] };
  return known.routes;
}

declare module 'express-serve-static-core' {
  interface Request {
    /** The JSON body's bytes as received: idempotency fingerprints, message payloads. */
    rawBody?: Buffer;
  }
}

/** The steps message create runs through, one instance each: shared by the app and its fast path. */
export function messageCreateSteps(deps: ApiDeps): MessageCreateSteps {
  return {
    securityHeaders: securityHeaders(),
    json: express.json({
      limit: '1mb',
      strict: true,
      type: ['application/json', 'application/*+json'],
      // Keeps a reference to the bytes body-parser read anyway (no copy).
      verify: (req, _res, buf) => void ((req as express.Request).rawBody = buf),
    }),
    authenticate: authenticate(deps.tokens, deps.orm),
    rateLimit: rateLimit(deps.config.HOOKFLOW_API_RATE_LIMIT),
    createMessage: messageCreate(deps),
    errors: errorHandler(deps.log),
  };
}

/** The HTTP API: Svix-compatible v1 under /api/v1, plus Hookflow's extensions. */
export function createApp(deps: ApiDeps, steps: MessageCreateSteps = messageCreateSteps(deps)): Express {
  const app = express();
  app.disable('x-powered-by');
  // defineRoute finds it here for routes that take an `idempotency-key`.
  app.locals.idempotency = new IdempotencyStore(deps.orm);
  app.set('trust proxy', false);
  app.use(steps.securityHeaders);
  app.use(methodNotAllowed(knownRoutes));
  app.use(steps.json);

  app.use('/api/v1', healthRouter(deps));
  app.use(metricsRouter(deps));
  app.use(docsRouter(deps));
  app.use(portalRouter(deps));
  const v1 = express.Router();
  v1.use(steps.authenticate);
  v1.use(steps.rateLimit);
  v1.use(messagesRouter(deps, steps.createMessage));
  v1.use(applicationsRouter(deps));
  v1.use(eventTypesRouter(deps));
  v1.use(endpointsRouter(deps));
  v1.use(attemptsRouter(deps));
  v1.use(authRouter(deps));
  v1.use(backgroundTasksRouter(deps));
  v1.use(replayRouter(deps));
  app.use('/api/v1', v1);

  app.use(() => {
    throw notFound('Route');
  });
  app.use(steps.errors);
  return app;
}

/** What the API's HTTP server runs: message create on its fast path, the rest through Express. */
export function createRequestListener(deps: ApiDeps) {
  const steps = messageCreateSteps(deps);
  return withMessageCreateFastPath(createApp(deps, steps), steps);
}
