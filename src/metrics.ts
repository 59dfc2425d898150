import http from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import * as client from 'prom-client';
import type { Orm } from './db/orm';
import { sdkMetricsText } from './temporal/sdk-metrics';

/**
 * Prometheus metrics of this process, in prom-client's default registry. The API and the
 * worker may share a process (`npm start`) or not (production): each exposes what it
 * counts. Labels are kept low-cardinality on purpose: no app, endpoint or message ids.
 */
export const registry = client.register;

let defaultsCollected = false;
function collectDefaults(): void {
  if (defaultsCollected) return;
  defaultsCollected = true;
  client.collectDefaultMetrics({ register: registry });
}
collectDefaults();

function counter(name: string, help: string, labelNames: string[] = []) {
  return (
    (registry.getSingleMetric(name) as client.Counter<string>) ??
    new client.Counter({ name, help, labelNames })
  );
}
function gauge(name: string, help: string, labelNames: string[] = []) {
  return (
    (registry.getSingleMetric(name) as client.Gauge<string>) ?? new client.Gauge({ name, help, labelNames })
  );
}

export const metrics = {
  messagesAccepted: counter(
    'hookflow_messages_accepted_total',
    'Messages stored and answered 202 by the API',
  ),
  deliveries: counter(
    'hookflow_deliveries_total',
    'Deliveries (one message to one endpoint) that reached a final state, by outcome: success, failed, cancelled',
    ['outcome'],
  ),
  attemptDuration:
    (registry.getSingleMetric('hookflow_attempt_duration_seconds') as client.Histogram<string>) ??
    new client.Histogram({
      name: 'hookflow_attempt_duration_seconds',
      help: 'Duration of each HTTP attempt, by outcome: success, failure, throttled, gone',
      labelNames: ['outcome'],
      buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30, 60],
    }),
  workflowStarts: counter(
    'hookflow_delivery_workflow_starts_total',
    'DeliverMessage workflows started by this process; eager="true" when the server handed the first task straight to the worker in this process',
    ['eager'],
  ),
  dispatchBacklog: gauge(
    'hookflow_dispatch_backlog',
    'Deliveries this API process holds in memory, waiting for or in their workflow start',
  ),
  dispatchDeferred: counter(
    'hookflow_dispatch_deferred_total',
    'Deliveries this API process left to the reconciler, by reason: queue_full (past maxQueued), start_failed (Temporal did not take the start)',
    ['reason'],
  ),
  undispatched: gauge(
    'hookflow_undispatched_deliveries',
    'Deliveries stored in PostgreSQL whose workflow start is not yet confirmed (an eager first attempt confirms it when it ends; the reconciler picks up the rest)',
  ),
  reconciled: counter(
    'hookflow_reconciler_deliveries_total',
    'Deliveries the reconciler handled, by action: started (stored but never started), cancelled (terminated or cancelled in Temporal, recorded as cancelled)',
    ['action'],
  ),
  endpoints: gauge(
    'hookflow_endpoints',
    'Endpoints by state, read from PostgreSQL on scrape: failing (enabled, its deliveries exhausting their retries since failing_since), disabled',
    ['state'],
  ),
  replaysStarted: counter(
    'hookflow_replay_started_total',
    'Bulk replays that began paging through their query',
  ),
  replayDeliveries: counter(
    'hookflow_replay_deliveries_total',
    'Deliveries handled by bulk replays: started, or skipped (already started by the same replay)',
    ['result'],
  ),
  replaysFinished: counter(
    'hookflow_replay_finished_total',
    'Bulk replays that ended, by status: finished, cancelled, failed',
    ['status'],
  ),
  payloadsPruned: counter(
    'hookflow_payloads_pruned_total',
    'Message payloads removed by the retention schedule',
  ),
  retentionDeleted: counter(
    'hookflow_retention_deleted_rows_total',
    "Rows the retention schedule deleted past their application's retention, by table: messages, deliveries, attempts, contents",
    ['table'],
  ),
};

/** Known label values start at 0: a dashboard's rate() has a series before the first event. */
function zeroKnownSeries(): void {
  const zero = (c: client.Counter<string>, label: string, values: string[]) =>
    values.forEach((v) => c.inc({ [label]: v }, 0));
  zero(metrics.deliveries, 'outcome', ['success', 'failed', 'cancelled']);
  for (const outcome of ['success', 'failure', 'throttled', 'gone'])
    metrics.attemptDuration.zero({ outcome });
  zero(metrics.workflowStarts, 'eager', ['true', 'false']);
  zero(metrics.dispatchDeferred, 'reason', ['queue_full', 'start_failed']);
  zero(metrics.reconciled, 'action', ['started', 'cancelled']);
  zero(metrics.replayDeliveries, 'result', ['started', 'skipped']);
  zero(metrics.replaysFinished, 'status', ['finished', 'cancelled', 'failed']);
  zero(metrics.retentionDeleted, 'table', ['messages', 'deliveries', 'attempts', 'contents']);
}
zeroKnownSeries();

/**
 * Gauges read from PostgreSQL on scrape: undispatched deliveries (the partial index on
 * dispatched_at keeps it cheap) and endpoints by state (one pass over a small table). Every
 * process reads the same rows: take the max across instances, not the sum.
 */
async function refreshDatabaseGauges(orm: Orm): Promise<void> {
  try {
    const db = orm.em.getConnection();
    const [undispatched, endpoints]: Array<Array<Record<string, string>>> = await Promise.all([
      db.execute('select count(*)::text as n from deliveries where dispatched_at is null'),
      db.execute(
        `select count(*) filter (where disabled)::text as disabled,
                count(*) filter (where not disabled and failing_since is not null)::text as failing
           from endpoints`,
      ),
    ]);
    metrics.undispatched.set(Number(undispatched[0]?.n ?? 0));
    metrics.endpoints.set({ state: 'disabled' }, Number(endpoints[0]?.disabled ?? 0));
    metrics.endpoints.set({ state: 'failing' }, Number(endpoints[0]?.failing ?? 0));
  } catch {
    // PostgreSQL down: the last value stays; health and the database's own alerts say why.
  }
}

/** What the gauges read on scrape come from. */
export interface ScrapeSources {
  orm?: Orm;
  dispatcher?: { readonly backlog: number };
}

/** The exposition text, with the gauges that are read on scrape brought up to date. */
export async function scrape(sources: ScrapeSources): Promise<{ contentType: string; body: string }> {
  if (sources.dispatcher) metrics.dispatchBacklog.set(sources.dispatcher.backlog);
  if (sources.orm) await refreshDatabaseGauges(sources.orm);
  const [own, sdk] = await Promise.all([registry.metrics(), sdkMetricsText()]);
  return { contentType: registry.contentType, body: sdk ? `${own}\n${sdk}` : own };
}

/** True when no metrics token is configured, or the request carries it as a bearer token. */
export function metricsAuthorized(authorization: string | undefined, token: string | undefined): boolean {
  if (!token) return true;
  const given = Buffer.from(/^Bearer (.+)$/i.exec(authorization ?? '')?.[1] ?? '');
  const want = Buffer.from(token);
  return given.length === want.length && timingSafeEqual(given, want);
}

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

/**
 * GET /metrics from a process without the API (`hookflow worker` with
 * HOOKFLOW_WORKER_METRICS_PORT set). Nothing else is served.
 */
export async function startMetricsServer(
  opts: ScrapeSources & { port: number; host: string; token?: string },
): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    if (!metricsAuthorized(req.headers.authorization, opts.token)) {
      res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer' }).end('unauthorized');
      return;
    }
    scrape(opts).then(
      ({ contentType, body }) => res.writeHead(200, { 'content-type': contentType }).end(body),
      () => res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(
              `Port ${opts.port} (worker metrics) is already in use: set HOOKFLOW_WORKER_METRICS_PORT`,
            )
          : err,
      ),
    );
    server.listen(opts.port, opts.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const shown = opts.host === '0.0.0.0' || opts.host === '::' ? 'localhost' : opts.host;
  return {
    url: `http://${shown}:${port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
