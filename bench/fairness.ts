import { perItem, type CpuMs } from './cpu';
import { HookflowClient, type BenchApp } from './hookflow-client';
import type { Ctx } from './scenarios';
import { latencyOf, round, runPool, track, type Latency } from './util';

/** Hookflow's processes: their sum is the `stack` CPU figure. */
const HOOKFLOW_STACK = ['hookflow', 'temporal', 'postgres'];

/** B's sending: one message every 500 ms, whatever A does. */
const B_INTERVAL_MS = 500;

/** One phase: A's backlog drains, B (if it sends) posts two a second meanwhile. */
export interface FairnessPhase {
  /** A's deliveries: its messages, or the deliveries its replay started. */
  a: number;
  /** From A's first POST (or the replay's POST) to A's last receipt. */
  drainSeconds: number;
  /**
   * B's messages sent while A drained, and their POST-to-receipt; split into POST to workflow
   * start (the API's answer and the wait in the dispatcher's queue) and start to receipt (the
   * start, the attempt and everything else in flight on the machine).
   */
  b: {
    sent: number;
    latency: Latency | null;
    /** POST to the 202. */
    answer: Latency | null;
    toStart: Latency | null;
    startToReceipt: Latency | null;
  };
  /** CPU ms per delivery (A's and B's) of each process over the phase. */
  cpuMs: CpuMs | null;
  /** The dispatcher's places in flight (health details, once a second): min, median, max. */
  places: { min: number; median: number; max: number } | null;
}

export interface Fairness {
  messages: number;
  /** A posts its messages with B silent: the reference drain. */
  alone: FairnessPhase;
  /** A posts its messages while B posts two a second. */
  withB: FairnessPhase;
  /** A replays the messages of `alone` (bulk replay, status all) while B posts two a second. */
  replayWithB: FairnessPhase;
}

/** Long enough for a slow machine, short enough that a stuck run ends by itself. */
const timeoutFor = (n: number) => 60_000 + n * 120;

/**
 * Sends one message of B every 500 ms until stopped; `stop` resolves with each message's
 * send time and id once every send has its answer.
 */
function sendEveryHalfSecond(client: HookflowClient, app: BenchApp) {
  const sent: Array<Promise<{ at: number; id: string; answered: number }>> = [];
  let n = 0;
  const send = () => {
    const at = performance.now();
    const p = client.send(app.id, n++).then((id) => ({ at, id, answered: performance.now() }));
    p.catch(() => undefined);
    sent.push(p);
  };
  send();
  const timer = setInterval(send, B_INTERVAL_MS);
  return async () => {
    clearInterval(timer);
    return Promise.all(sent);
  };
}

/**
 * One phase: `start` makes A's backlog (posting, or a replay) and resolves once A's requests
 * are answered; the phase ends at A's last receipt under `scope`.
 */
async function phase(
  ctx: Ctx,
  title: string,
  scope: string,
  a: number,
  b: { app: BenchApp; client: HookflowClient } | null,
  start: () => Promise<void>,
): Promise<FairnessPhase> {
  const bar = ctx.progress.start(title, a, 'received');
  const arrived = ctx.receiver.waitFor(scope, a, timeoutFor(a));
  arrived.catch(() => undefined);
  const cpuBefore = ctx.cpu.read();
  const started = performance.now();
  const stopB = b ? sendEveryHalfSecond(b.client, b.app) : null;
  const places: number[] = [];
  const watch = setInterval(() => {
    fetch(`${ctx.stack.apiUrl}/api/v1/health/details`)
      .then((r) => r.json() as Promise<{ fairness?: { places?: number } }>)
      .then((d) => d.fairness?.places !== undefined && places.push(d.fairness.places))
      .catch(() => undefined);
  }, 1000);
  let bSent: Array<{ at: number; id: string; answered: number }> = [];
  try {
    await track(bar, Promise.all([start(), arrived]), () => ctx.receiver.count(scope));
  } finally {
    clearInterval(watch);
    bSent = (await stopB?.()) ?? [];
  }
  const cpuAfter = ctx.cpu.read();
  ctx.progress.finish();
  const last = Math.max(...ctx.receiver.timesOf(scope));
  // B's last messages may still be on their way: each counts once it arrives.
  const bPath = b?.app.endpoints[0].path ?? '';
  const bLatencies: number[] = [];
  const toStart: number[] = [];
  const startToReceipt: number[] = [];
  for (const s of bSent) {
    const at = await waitForReceipt(ctx, bPath, s.id);
    bLatencies.push(at - s.at);
    // The server's start time, on the same clock (one machine): where B's time went.
    const startedAt = await ctx.temporal.workflow
      .getHandle(`deliver-${s.id}-${b!.app.endpoints[0].id}`)
      .describe()
      .then((d) => d.startTime.getTime() - performance.timeOrigin)
      .catch(() => null);
    if (startedAt === null) continue;
    toStart.push(startedAt - s.at);
    startToReceipt.push(at - startedAt);
  }
  const latency = (values: number[]) => (values.length ? latencyOf(values) : null);
  return {
    a,
    drainSeconds: round((last - started) / 1000, 2),
    b: {
      sent: bSent.length,
      latency: latency(bLatencies),
      answer: latency(bSent.map((x) => x.answered - x.at)),
      toStart: latency(toStart),
      startToReceipt: latency(startToReceipt),
    },
    cpuMs: perItem(cpuBefore, cpuAfter, a + bSent.length, HOOKFLOW_STACK),
    places: places.length
      ? {
          min: Math.min(...places),
          median: [...places].sort((x, y) => x - y)[Math.floor(places.length / 2)],
          max: Math.max(...places),
        }
      : null,
  };
}

/** When `id` reached `path`, waiting (bounded) for the last few of B's still on their way. */
async function waitForReceipt(ctx: Ctx, path: string, id: string): Promise<number> {
  const deadline = performance.now() + 60_000;
  for (;;) {
    const at = ctx.receiver.receivedAt(path, id);
    if (at !== undefined) return at;
    if (performance.now() > deadline) throw new Error(`fairness: B's message ${id} never arrived`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Fairness (issue 22): application A posts `n` messages at the bench's concurrency, first with
 * B silent, then while B posts two a second; then A replays the first `n` through a bulk
 * replay while B keeps posting. B's POST-to-receipt says whether A's backlog held it up; A's
 * drain with B against without says what fairness cost A. `settle` waits for the servers to go
 * idle between phases.
 */
export async function fairness(
  ctx: Ctx,
  scope: string,
  n: number,
  settle: () => Promise<unknown>,
): Promise<Fairness> {
  const app = await ctx.hookflow.createApp(`${scope}b`, 1);
  ctx.receiver.secrets.set(app.endpoints[0].path, app.endpoints[0].secret);
  // B is another tenant's service: connections of its own, not a turn in A's pool.
  const client = new HookflowClient(ctx.stack, ctx.receiverUrl, 2);
  try {
    return await phases(ctx, scope, n, settle, { app, client });
  } finally {
    await client.close();
  }
}

async function phases(
  ctx: Ctx,
  scope: string,
  n: number,
  settle: () => Promise<unknown>,
  b: { app: BenchApp; client: HookflowClient },
): Promise<Fairness> {
  const postAll = (app: BenchApp) => () =>
    runPool(n, ctx.concurrency, async (i) => void (await ctx.hookflow.send(app.id, i)));

  const a1 = await ctx.hookflow.createApp(`${scope}a1`, 1);
  ctx.receiver.secrets.set(a1.endpoints[0].path, a1.endpoints[0].secret);
  const since = new Date(Date.now() - 1000).toISOString();
  const alone = await phase(
    ctx,
    `fairness: A posts ${n} messages, B silent`,
    `${scope}a1`,
    n,
    null,
    postAll(a1),
  );
  const until = new Date(Date.now() + 1000).toISOString();

  await settle();
  const a2 = await ctx.hookflow.createApp(`${scope}a2`, 1);
  ctx.receiver.secrets.set(a2.endpoints[0].path, a2.endpoints[0].secret);
  const withB = await phase(
    ctx,
    `fairness: A posts ${n} messages while B posts two a second`,
    `${scope}a2`,
    n,
    b,
    postAll(a2),
  );

  await settle();
  // The replay goes to a path of its own, so the receiver counts its deliveries apart from the first ones.
  const replayPath = `/${scope}r/ep0`;
  await ctx.hookflow.moveEndpoint(a1.id, a1.endpoints[0].id, replayPath);
  ctx.receiver.secrets.set(replayPath, a1.endpoints[0].secret);
  const replayWithB = await phase(
    ctx,
    `fairness: A replays its ${n} messages (bulk replay) while B posts two a second`,
    `${scope}r`,
    n,
    b,
    () => ctx.hookflow.replay(a1.id, { since, until, status: 'all' }),
  );
  return { messages: n, alone, withB, replayWithB };
}
