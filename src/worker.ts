import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy } from '@temporalio/client';
import {
  DefaultLogger,
  NativeConnection,
  Runtime,
  Worker,
  bundleWorkflowCode,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import {
  OpenTelemetryActivityInboundInterceptor,
  makeWorkflowExporter,
} from '@temporalio/interceptors-opentelemetry/lib/worker';
import { createActivities } from '../activities';
import { workflowInterceptorModule } from './tracing';
import { SafeHttpClient } from '../activities/http-client';
import type { Services } from './services';
import { connectWorker } from './temporal/connection';
import { InProcessWorker } from './temporal/in-process-workflows';
import { sdkMetricsTelemetry, sdkMetricsUnavailable } from './temporal/sdk-metrics';

export const RECONCILER_SCHEDULE_ID = 'hookflow-reconciler';
export const RETENTION_SCHEDULE_ID = 'hookflow-retention';

export function workflowsPath(): string {
  return require.resolve(path.join(__dirname, '..', 'workflows'));
}

/** Bundled once per process (or once per test run, and handed in). */
export async function bundleWorkflows(
  opts: { tracing?: boolean } = {},
): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({
    workflowsPath: workflowsPath(),
    workflowInterceptorModules: opts.tracing ? [workflowInterceptorModule()] : [],
    logger: { log() {}, info() {}, warn() {}, error: console.error, debug() {}, trace() {} } as never,
  });
}

/** Where `npm run build` writes the workflow bundles (src/bundle-workflows.ts): beside the compiled workflows. */
export function prebuiltBundlePath(tracing: boolean, dir = path.join(__dirname, '..', 'workflows')): string {
  return path.join(dir, tracing ? 'bundle.tracing.js' : 'bundle.js');
}

/**
 * The bundle made at build time, when it is newer than every compiled workflow module.
 * Bundling with webpack at startup costs seconds and a heap spike the process keeps in
 * its RSS; a stale bundle (workflows rebuilt since) is never used.
 */
export function prebuiltBundle(tracing: boolean, dir?: string): { codePath: string } | null {
  const codePath = prebuiltBundlePath(tracing, dir);
  if (!existsSync(codePath)) return null;
  const built = statSync(codePath).mtimeMs;
  const folder = path.dirname(codePath);
  const sources = readdirSync(folder).filter((f) => f.endsWith('.js') && !f.startsWith('bundle'));
  if (sources.some((f) => statSync(path.join(folder, f)).mtimeMs > built)) return null;
  return { codePath };
}

export interface RunningWorker {
  worker: Worker;
  connection: NativeConnection;
  http: SafeHttpClient;
  run: Promise<void>;
  shutdown(): Promise<void>;
}

/** The reconciler runs as a Temporal Schedule, created once (a second create is a no-op). */
export async function ensureReconcilerSchedule(services: Services): Promise<void> {
  const { temporal, config } = services;
  try {
    await temporal.schedule.create({
      scheduleId: RECONCILER_SCHEDULE_ID,
      spec: { intervals: [{ every: `${config.HOOKFLOW_RECONCILE_SECONDS}s` }] },
      action: {
        type: 'startWorkflow',
        workflowType: 'Reconcile',
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        workflowId: 'hookflow-reconcile',
      },
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute' },
    });
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
}

/**
 * Payload retention runs as a Temporal Schedule (PruneExpiredPayloads, hourly by default).
 * Unlike the reconciler's, an existing schedule is brought up to date when its interval
 * or task queue no longer matches the configuration; a failed update is left to the next start.
 */
export async function ensureRetentionSchedule(
  services: Services,
  scheduleId = RETENTION_SCHEDULE_ID,
): Promise<void> {
  const { temporal, config } = services;
  const every = config.HOOKFLOW_RETENTION_SCHEDULE_SECONDS;
  const spec = { intervals: [{ every: every * 1000 }] };
  const action = {
    type: 'startWorkflow' as const,
    workflowType: 'PruneExpiredPayloads',
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    workflowId: `${scheduleId}-prune`,
    args: [{}],
  };
  try {
    await temporal.schedule.create({
      scheduleId,
      spec,
      action,
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour' },
    });
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    const handle = temporal.schedule.getHandle(scheduleId);
    const current = await handle.describe();
    const stale =
      current.spec.intervals?.[0]?.every !== every * 1000 ||
      (current.action.type === 'startWorkflow' && current.action.taskQueue !== config.TEMPORAL_TASK_QUEUE);
    if (stale) await handle.update((prev) => ({ ...prev, spec, action })).catch(() => undefined);
  }
}

let runtimeInstalled: Promise<void> | null = null;
/**
 * The SDK's own logs at WARN and above (routine worker state changes are noise in ours), and
 * its metrics for /metrics (src/temporal/sdk-metrics.ts).
 */
function installRuntime(): Promise<void> {
  return (runtimeInstalled ??= (async () => {
    const telemetryOptions = await sdkMetricsTelemetry();
    try {
      // No shutdown signals: the process that owns the worker stops it, in order with the rest.
      Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [], telemetryOptions });
    } catch {
      // Already installed by the host process (tests may install their own).
      sdkMetricsUnavailable();
    }
  })());
}

/**
 * The connection a worker polls with. Made before the services, so that their client can
 * share it (eager workflow starts); install the runtime first, or the SDK installs its own.
 */
export async function connectWorkerConnection(config: Services['config']): Promise<NativeConnection> {
  await installRuntime();
  return connectWorker(config);
}

export async function startWorker(
  services: Services,
  opts: {
    bundle?: WorkflowBundleWithSourceMap | { codePath: string };
    taskQueue?: string;
    /** A connection made by the caller, who also closes it (after this worker has stopped). */
    connection?: NativeConnection;
  } = {},
): Promise<RunningWorker> {
  const { config } = services;
  const ownConnection = !opts.connection;
  const connection = opts.connection ?? (await connectWorkerConnection(config));
  const http = new SafeHttpClient({
    timeoutMs: config.HOOKFLOW_HTTP_TIMEOUT_MS,
    allowedCidrs: config.HOOKFLOW_ALLOWED_CIDRS,
    maxResponseBytes: config.HOOKFLOW_MAX_RESPONSE_BYTES,
  });
  const activities = createActivities({ ...services, http });
  const { tracing } = services;
  // A bundle handed in must have been built with the same tracing setting.
  const workflowBundle =
    opts.bundle ?? prebuiltBundle(!!tracing) ?? (await bundleWorkflows({ tracing: !!tracing }));
  if (config.HOOKFLOW_WORKFLOW_GUARDS !== undefined)
    services.log.warn(
      `HOOKFLOW_WORKFLOW_GUARDS is deprecated: set HOOKFLOW_WORKFLOW_RUNNER=${config.HOOKFLOW_WORKFLOW_RUNNER} instead`,
    );
  // By default the SDK's supported worker; in-process is the opt-in of src/temporal/in-process-workflows.ts.
  const WorkerClass = config.HOOKFLOW_WORKFLOW_RUNNER === 'in-process' ? InProcessWorker : Worker;
  const worker = await WorkerClass.create({
    // Tracing: workflow spans leave through a sink, activity spans through the global provider.
    ...(tracing
      ? {
          sinks: { exporter: makeWorkflowExporter(tracing.processor, tracing.resource) },
          interceptors: {
            activity: [(ctx) => ({ inbound: new OpenTelemetryActivityInboundInterceptor(ctx) })],
          },
        }
      : {}),
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: opts.taskQueue ?? config.TEMPORAL_TASK_QUEUE,
    workflowBundle,
    activities,
    maxConcurrentActivityTaskExecutions: config.HOOKFLOW_WORKER_CONCURRENCY,
    // An attempt runs as local activities inside its workflow task and holds the task's slot
    // while it sends, so there are as many slots as attempts in flight. Fewer, and eager starts
    // are silently refused (the server falls back to a plain start) whenever all are busy.
    maxConcurrentLocalActivityExecutions: config.HOOKFLOW_WORKER_CONCURRENCY,
    maxConcurrentWorkflowTaskExecutions: Math.max(40, config.HOOKFLOW_WORKER_CONCURRENCY),
    maxCachedWorkflows: config.HOOKFLOW_WORKER_CACHE,
    // In-flight attempts get this long to finish on shutdown before they are cancelled.
    shutdownGraceTime: '20s',
  });
  const run = worker.run();
  let stopped: Promise<void> | undefined;
  return {
    worker,
    connection,
    http,
    run,
    // Idempotent: a second call waits for the first.
    shutdown() {
      stopped ??= (async () => {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await run.catch(() => undefined);
        await http.close();
        if (ownConnection) await connection.close();
      })();
      return stopped;
    },
  };
}
