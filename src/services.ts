import type { Client } from '@temporalio/client';
import type { ReadyConfig } from './config';
import { openOrm, type Orm } from './db/orm';
import { createLogger, type Logger } from './logger';
import { SecretBox } from './domain/crypto';
import { Tokens } from './domain/tokens';
import { Dispatcher } from './domain/dispatcher';
import { ApplicationLimits } from './domain/app-limits';
import { EndpointLifecycle } from './domain/endpoint-lifecycle';
import { OperationalWebhooks } from './domain/operational-webhooks';
import type { NativeConnection } from '@temporalio/worker';
import { lazyClient, sharedClient } from './temporal/connection';
import { setupTracing, type Tracing } from './tracing';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry/lib/client';

/** The shared parts of the API and the worker, built once per process from the configuration. */
export interface Services {
  config: ReadyConfig;
  orm: Orm;
  temporal: Client;
  box: SecretBox;
  tokens: Tokens;
  log: Logger;
  dispatcher: Dispatcher;
  lifecycle: EndpointLifecycle;
  operational: OperationalWebhooks;
  tracing: Tracing | null;
  close(): Promise<void>;
}

export async function buildServices(
  config: ReadyConfig,
  log: Logger = createLogger(config.LOG_LEVEL),
  opts: {
    spanProcessor?: SpanProcessor;
    /**
     * The connection of a worker in this process that polls TEMPORAL_TASK_QUEUE: the client
     * shares it and deliveries start eagerly on that worker. Without it the client connects
     * lazily, so an API alone starts and accepts messages while Temporal is down.
     */
    workerConnection?: NativeConnection;
  } = {},
): Promise<Services> {
  const orm = await openOrm(config.DATABASE_URL, config.DATABASE_POOL_MAX);
  const tracing = setupTracing(config, opts.spanProcessor);
  const interceptors = tracing ? [new OpenTelemetryWorkflowClientInterceptor()] : [];
  const temporal = opts.workerConnection
    ? sharedClient(opts.workerConnection, config, interceptors)
    : lazyClient(config, interceptors);
  const operational = new OperationalWebhooks(
    temporal,
    config.HOOKFLOW_OPERATIONAL_WEBHOOK_URL,
    config.TEMPORAL_TASK_QUEUE,
  );
  const limits = new ApplicationLimits({ orm, fallback: config.HOOKFLOW_APP_MAX_IN_FLIGHT, log });
  const dispatcher = new Dispatcher({
    orm,
    temporal,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    schedule: config.HOOKFLOW_RETRY_SCHEDULE,
    // The HTTP timeout, plus room for the throttle wait and the database writes.
    attemptTimeoutMs: config.HOOKFLOW_HTTP_TIMEOUT_MS + 15_000,
    concurrency: config.HOOKFLOW_DISPATCH_CONCURRENCY,
    yieldAt: config.HOOKFLOW_DISPATCH_YIELD_AT,
    holdMaxMs: config.HOOKFLOW_DISPATCH_HOLD_MS,
    eagerStart: !!opts.workerConnection,
    limitOf: (appId) => limits.limitOf(appId),
    log,
  });
  const lifecycle = new EndpointLifecycle({
    orm,
    temporal,
    operational,
    log,
    disableAfterDays: config.HOOKFLOW_DISABLE_AFTER_DAYS,
  });
  return {
    config,
    orm,
    temporal,
    box: new SecretBox(config.HOOKFLOW_SECRET_KEY),
    tokens: new Tokens(config.HOOKFLOW_ADMIN_TOKEN, config.HOOKFLOW_SECRET_KEY),
    log,
    dispatcher,
    lifecycle,
    operational,
    tracing,
    async close() {
      await dispatcher.stop();
      await temporal.connection.close().catch(() => undefined);
      await orm.close();
      await tracing?.shutdown();
    },
  };
}
