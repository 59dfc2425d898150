import autocannon from 'autocannon';
import type { Client } from '@temporalio/client';
import { Pool } from 'undici';
import { perItem, type CpuMeter, type CpuMs } from './cpu';
import type { HookflowClient } from './hookflow-client';
import { messageBody } from './hookflow-client';
import type { BenchReceiver } from './receiver';
import type { Stack } from './stack';
import { latencyOf, Progress, round, runPool, track, type Latency } from './util';

export interface Ctx {
  stack: Stack;
  receiver: BenchReceiver;
  receiverUrl: string;
  hookflow: HookflowClient;
  temporal: Client;
  progress: Progress;
  concurrency: number;
  runTag: string;
  /** Reads the CPU time of `hookflow` (and `api`, `worker` apart), `temporal`, `postgres`, `baselineWorker`. */
  cpu: CpuMeter;
  /** The baseline worker starts workflows eagerly on its own connection when POSTed here. */
  baselineStartUrl: string;
}

/** The processes a scenario runs on: their sum is the `stack` CPU figure. */
const HOOKFLOW_STACK = ['hookflow', 'temporal', 'postgres'];
const BASELINE_STACK = ['baselineWorker', 'temporal'];

/** Deliveries of one batch: rate from the first send to the last receipt, and per-item latency. */
export interface Delivered {
  count: number;
  seconds: number;
  perSecond: number;
  /** Sends (POST /msg, workflow.start, raw POST) per second while sending. */
  sendPerSecond: number;
  /** Send to receipt, ms. */
  latency: Latency;
  /** Send to answer (202 / start acknowledged / 200), ms. */
  sendLatency: Latency;
  /** CPU ms per delivery of each process, first send to last receipt (bench/cpu.ts). */
  cpuMs: CpuMs | null;
}

/**
 * Two runs of the same scenario as one: the pooled rate (all deliveries over all seconds)
 * and the mean of each figure. The bench runs the local-activity baseline before and after
 * Hookflow's end to end, because every scenario leaves rows in the Temporal server's
 * SQLite tables and the later one pays for the bigger indexes (about 0.5–1 ms of server
 * CPU per workflow across a run): pooled, both sides see the same tables on average.
 */
export function pooled(a: Delivered, b: Delivered): Delivered {
  const mean = (x: number, y: number) => round((x + y) / 2);
  const meanOf = <T extends object>(x: T, y: T): T => {
    const [xs, ys] = [x as Record<string, number>, y as Record<string, number>];
    return Object.fromEntries(Object.keys(xs).map((k) => [k, mean(xs[k], ys[k] ?? xs[k])])) as T;
  };
  return {
    count: a.count + b.count,
    seconds: round(a.seconds + b.seconds, 2),
    perSecond: round((a.count + b.count) / (a.seconds + b.seconds)),
    sendPerSecond: mean(a.sendPerSecond, b.sendPerSecond),
    latency: meanOf(a.latency, b.latency),
    sendLatency: meanOf(a.sendLatency, b.sendLatency),
    cpuMs: a.cpuMs && b.cpuMs ? meanOf(a.cpuMs, b.cpuMs) : (a.cpuMs ?? b.cpuMs),
  };
}

/** Long enough for a slow machine, short enough that a stuck run ends by itself. */
const timeoutFor = (n: number) => 60_000 + n * 120;

async function deliverBatch(
  ctx: Ctx,
  title: string,
  scope: string,
  n: number,
  stack: string[],
  send: (i: number) => Promise<{ path: string; id: string }>,
): Promise<Delivered> {
  const bar = ctx.progress.start(title, n, 'received');
  const sentAt: number[] = new Array(n);
  const answered: number[] = new Array(n);
  const keys: Array<{ path: string; id: string }> = new Array(n);
  const base = ctx.receiver.count(scope);
  const cpuBefore = ctx.cpu.read();
  const started = performance.now();
  const arrived = ctx.receiver.waitFor(scope, base + n, timeoutFor(n));
  arrived.catch(() => undefined);
  let sendSeconds = 0;
  const sending = runPool(n, ctx.concurrency, async (i) => {
    sentAt[i] = performance.now();
    keys[i] = await send(i);
    answered[i] = performance.now();
  }).then(() => void (sendSeconds = (performance.now() - started) / 1000));
  await track(bar, Promise.all([sending, arrived]), () => ctx.receiver.count(scope) - base);
  const cpuAfter = ctx.cpu.read();
  const receipts = keys.map((k) => ctx.receiver.receivedAt(k.path, k.id));
  const missing = receipts.filter((r) => r === undefined).length;
  if (missing) throw new Error(`${title}: ${missing} of ${n} sends never arrived`);
  const last = Math.max(...(receipts as number[]));
  const seconds = (last - started) / 1000;
  ctx.progress.finish();
  return {
    count: n,
    seconds: round(seconds, 2),
    perSecond: round(n / seconds),
    sendPerSecond: round(n / sendSeconds),
    latency: latencyOf(receipts.map((r, i) => (r as number) - sentAt[i])),
    sendLatency: latencyOf(answered.map((a, i) => a - sentAt[i])),
    cpuMs: perItem(cpuBefore, cpuAfter, n, stack),
  };
}

/** Raw HTTP: undici posting straight to the receiver, the ceiling of the network path. */
export async function rawHttp(ctx: Ctx, scope: string, n: number): Promise<Delivered> {
  const pool = new Pool(ctx.receiverUrl, { connections: ctx.concurrency, keepAliveTimeout: 30_000 });
  try {
    const body = JSON.stringify(messageBody(0));
    return await deliverBatch(
      ctx,
      `raw HTTP: ${n} POSTs at concurrency ${ctx.concurrency}`,
      scope,
      n,
      [],
      async (i) => {
        const id = `raw_${ctx.runTag}_${scope}_${i}`;
        const path = `/${scope}/direct`;
        const res = await pool.request({
          method: 'POST',
          path,
          headers: { 'content-type': 'application/json', 'webhook-id': id },
          body,
        });
        await res.body.dump();
        return { path, id };
      },
    );
  } finally {
    await pool.close();
  }
}

/** The bare-Temporal workflows of bench/baseline-workflows.ts, by variant. */
const BASELINES = {
  activity: { workflow: 'BaselineDelivery', what: 'workflows' },
  local: { workflow: 'BaselineDeliveryLocal', what: 'workflows with a local activity' },
  searchAttributes: {
    workflow: 'BaselineDeliveryWithSearchAttributes',
    what: "local-activity workflows with Hookflow's search attributes",
  },
} as const;

/**
 * Asks the baseline worker to start a workflow itself, eagerly on its own connection, as
 * `hookflow server` starts its deliveries. Waits (bounded) for the worker to listen.
 */
async function startInBaselineWorker(
  ctx: Ctx,
  body: { workflow: string; id: string; args: unknown[]; searchAttributes: boolean },
) {
  for (let tries = 0; ; tries++) {
    try {
      const res = await fetch(ctx.baselineStartUrl, { method: 'POST', body: JSON.stringify(body) });
      if (!res.ok) throw new Error(`baseline start: ${res.status} ${await res.text()}`);
      return;
    } catch (err) {
      const refused = (err as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED';
      if (!refused || tries >= 100) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/**
 * Bare Temporal: one minimal workflow per delivery, started by the baseline worker itself,
 * eagerly (as `hookflow server` does). `local` posts from a local activity;
 * `searchAttributes` is `local` started with Hookflow's search attributes and summary, to
 * measure what visibility costs this server.
 */
export async function bareTemporal(
  ctx: Ctx,
  scope: string,
  n: number,
  variant: keyof typeof BASELINES = 'activity',
): Promise<Delivered> {
  const path = `/${scope}/wf`;
  const { workflow, what } = BASELINES[variant];
  return deliverBatch(
    ctx,
    `bare Temporal: ${n} ${what} at concurrency ${ctx.concurrency}`,
    scope,
    n,
    BASELINE_STACK,
    async (i) => {
      const id = `bench-${ctx.runTag}-${scope}-${i}`;
      const args = [{ url: ctx.receiverUrl + path, id }];
      await startInBaselineWorker(ctx, {
        workflow,
        id,
        args,
        searchAttributes: variant === 'searchAttributes',
      });
      return { path, id };
    },
  );
}

/** End to end: POST /msg for each of N messages to one endpoint, until the receiver has all. */
export async function endToEnd(ctx: Ctx, scope: string, n: number): Promise<Delivered & { appId: string }> {
  const app = await ctx.hookflow.createApp(scope, 1);
  const path = app.endpoints[0].path;
  ctx.receiver.secrets.set(path, app.endpoints[0].secret);
  const result = await deliverBatch(
    ctx,
    `end to end: ${n} messages at concurrency ${ctx.concurrency}`,
    scope,
    n,
    HOOKFLOW_STACK,
    async (i) => ({
      path,
      id: await ctx.hookflow.send(app.id, i),
    }),
  );
  return { ...result, appId: app.id };
}

export interface FanOut {
  messages: number;
  endpoints: number;
  deliveries: number;
  /** First POST to the last receipt. */
  seconds: number;
  perSecond: number;
  latency: Latency;
  /** CPU ms per delivery of each process, first POST to last receipt. */
  cpuMs: CpuMs | null;
}

/** `messages` messages to an app with `endpoints` endpoints; every endpoint must get every one. */
export async function fanOut(ctx: Ctx, scope: string, messages: number, endpoints: number): Promise<FanOut> {
  const app = await ctx.hookflow.createApp(scope, endpoints);
  for (const ep of app.endpoints) ctx.receiver.secrets.set(ep.path, ep.secret);
  const total = messages * endpoints;
  const bar = ctx.progress.start(
    `fan-out: ${messages} message(s) × ${endpoints} endpoints`,
    total,
    'received',
  );
  const arrived = ctx.receiver.waitFor(scope, total, timeoutFor(total));
  arrived.catch(() => undefined);
  const cpuBefore = ctx.cpu.read();
  const started = performance.now();
  const sent: Array<{ id: string; at: number }> = new Array(messages);
  const sending = runPool(messages, ctx.concurrency, async (i) => {
    const at = performance.now();
    sent[i] = { id: await ctx.hookflow.send(app.id, i), at };
  });
  await track(bar, Promise.all([sending, arrived]), () => ctx.receiver.count(scope));
  const cpuAfter = ctx.cpu.read();
  const latencies: number[] = [];
  let last = started;
  for (const s of sent)
    for (const ep of app.endpoints) {
      const r = ctx.receiver.receivedAt(ep.path, s.id);
      if (r === undefined) throw new Error(`fan-out: ${s.id} never reached ${ep.path}`);
      latencies.push(r - s.at);
      last = Math.max(last, r);
    }
  ctx.progress.finish();
  const seconds = (last - started) / 1000;
  return {
    messages,
    endpoints,
    deliveries: total,
    seconds: round(seconds, 2),
    perSecond: round(total / seconds),
    latency: latencyOf(latencies),
    cpuMs: perItem(cpuBefore, cpuAfter, total, HOOKFLOW_STACK),
  };
}

export interface Ingest {
  /** Endpoints subscribed to the app: with none, ingest is the API's work alone. */
  endpoints: number;
  connections: number;
  durationSeconds: number;
  accepted: number;
  non2xx: number;
  errors: number;
  perSecond: number;
  latency: { p50: number; p99: number; max: number };
  /** Messages stored in PostgreSQL for the app (must equal accepted). */
  stored: number;
  /** Distinct deliveries the receiver got (must equal accepted). */
  delivered: number;
  lost: number;
  /** From the end of the burst until the last delivery. */
  drainSeconds: number;
  /** Delivered / (burst start → last delivery). */
  deliveredPerSecond: number;
  /** CPU ms per accepted message of each process, during the burst. */
  cpuMsPerAccepted: CpuMs | null;
  /** CPU ms per delivery of each process, burst start → last delivery. */
  cpuMsPerDelivery: CpuMs | null;
}

/**
 * Ingest: autocannon at fixed concurrency, then the backlog must drain with nothing lost.
 * With `endpoints` 0 the app has no endpoint: only the API and PostgreSQL work.
 */
export async function ingest(
  ctx: Ctx,
  scope: string,
  seconds: number,
  connections: number,
  endpoints: 0 | 1 = 1,
): Promise<Ingest> {
  const app = await ctx.hookflow.createApp(scope, endpoints);
  for (const ep of app.endpoints) ctx.receiver.secrets.set(ep.path, ep.secret);
  const body = JSON.stringify(messageBody(0));
  const headers = { authorization: `Bearer ${ctx.stack.adminToken}`, 'content-type': 'application/json' };
  // A long-running API is warm: 2 s of the same load to an app without endpoints first, not
  // counted, so the figure is the steady rate rather than JIT compilation and pool growth.
  const warm = await ctx.hookflow.createApp(`${scope}-warm-up`, 0);
  await autocannon({
    url: `${ctx.stack.apiUrl}/api/v1/app/${warm.id}/msg`,
    method: 'POST',
    headers,
    body,
    connections,
    duration: 2,
  });
  const bar = ctx.progress.start(
    `ingest: POST /msg to an app with ${endpoints} endpoint(s) for ${seconds}s with ${connections} connections (autocannon)`,
    seconds,
    'seconds',
  );
  const cpuBefore = ctx.cpu.read();
  const started = performance.now();
  const run = autocannon({
    url: `${ctx.stack.apiUrl}/api/v1/app/${app.id}/msg`,
    method: 'POST',
    headers,
    body,
    connections,
    duration: seconds,
  });
  const result = await track(bar, run, () =>
    Math.min(seconds, Math.floor((performance.now() - started) / 1000)),
  );
  const burstEnd = performance.now();
  const cpuBurst = ctx.cpu.read();
  // autocannon stops on time with requests still in flight; the API finishes those, so
  // the backlog to drain is what PostgreSQL holds once the count stops moving.
  let stored = await ctx.hookflow.countMessages(app.id);
  for (let previous = -1; stored !== previous;) {
    await new Promise((r) => setTimeout(r, 1000));
    previous = stored;
    stored = await ctx.hookflow.countMessages(app.id);
  }
  const accepted = result['2xx'];
  const toDeliver = endpoints * stored;
  const drain = ctx.progress.start(
    `ingest: draining the backlog of ${toDeliver} deliveries (${accepted} answered 202 within the burst)`,
    toDeliver,
    'received',
  );
  let timedOut = false;
  await track(
    drain,
    ctx.receiver.waitFor(scope, toDeliver, timeoutFor(toDeliver)).catch(() => void (timedOut = true)),
    () => ctx.receiver.count(scope),
  );
  const cpuDrained = ctx.cpu.read();
  ctx.progress.finish();
  const times = ctx.receiver.timesOf(scope);
  const last = times.length ? Math.max(...times) : burstEnd;
  const delivered = ctx.receiver.count(scope);
  if (timedOut) ctx.progress.log(`ingest: backlog did not drain: ${delivered} of ${toDeliver} delivered`);
  return {
    endpoints,
    connections,
    durationSeconds: round(result.duration, 2),
    accepted,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    perSecond: round(accepted / result.duration),
    latency: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
    stored,
    delivered,
    lost: Math.max(0, toDeliver - delivered),
    drainSeconds: endpoints ? round((last - burstEnd) / 1000, 2) : 0,
    deliveredPerSecond: endpoints ? round(delivered / ((last - started) / 1000)) : 0,
    cpuMsPerAccepted: perItem(cpuBefore, cpuBurst, accepted, HOOKFLOW_STACK),
    cpuMsPerDelivery: perItem(cpuBefore, cpuDrained, delivered, HOOKFLOW_STACK),
  };
}
