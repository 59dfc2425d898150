import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { CpuMs } from './cpu';
import type { Delivered, FanOut, Ingest } from './scenarios';
import type { Breakdown } from './breakdown';
import type { TableBytes } from './tables';

export interface Machine {
  cores: number;
  memoryGb: number;
  cpu: string;
  node: string;
  platform: string;
  /** 1-minute load average at the start and the end: other work on the machine skews every figure. */
  loadAverage?: { start: number; end: number };
}

export interface Results {
  date: string;
  command: string;
  commit: string;
  machine: Machine;
  settings: {
    messages: number;
    concurrency: number;
    ingestSeconds: number;
    temporalDb: string;
    /** `dev` (the CLI's dev server) or `server` (the Temporal server on PostgreSQL); absent before it existed: dev. */
    temporal?: string;
    /** `server` (one process) or `split` (API and worker); absent in runs before it existed: split. */
    processes?: string;
    setupVia: string;
    env: Record<string, string>;
    /** How the baseline worker runs workflows: the SDK's `stock` worker (absent before it existed), or `in-process` as Hookflow's. */
    baselineWorker?: 'stock' | 'in-process';
    /** Hookflow's HOOKFLOW_WORKFLOW_RUNNER; absent in runs before it existed, when Hookflow's workflows ran in process. */
    workflowRunner?: 'thread' | 'in-process';
  };
  raw?: Delivered;
  temporal?: Delivered;
  /** Bare Temporal with the POST as a local activity (pooled over both runs when there are two). */
  temporalLocal?: Delivered;
  /** With e2e: the same baseline run before and after it (bench/scenarios.ts `pooled`). */
  temporalLocalRuns?: Delivered[];
  temporalWithSearchAttributes?: Delivered;
  endToEnd?: Delivered;
  endToEndBreakdown?: Breakdown;
  fanOut100?: FanOut;
  fanOut100Temporal?: Delivered;
  fanOut100TemporalLocal?: Delivered;
  fanOut100Raw?: Delivered;
  fanOutMany?: FanOut;
  ingest?: Ingest;
  /** The same burst to an app with no endpoint: the API and PostgreSQL alone. */
  ingestNoEndpoint?: Ingest;
  /** Table bytes per 1,000 deliveries, and what a retention pass leaves. */
  tables?: TableBytes;
  /** With --temporal server: what Temporal's databases (persistence and visibility) grew by, per end-to-end delivery. */
  temporalStorage?: { bytesPerDelivery: number; deliveries: number };
  rssMb: {
    api: number | null;
    worker: number | null;
    apiPlusWorker: number | null;
    baselineWorker: number | null;
  };
  targets: Record<string, { target: string; value: string; met: boolean | null }>;
  /** Seconds each scenario waited for the Temporal server to go idle first (bench/run.ts `untilQuiet`). */
  settledSeconds?: Record<string, number>;
  signatures: { verified: number; bad: number };
  durationSeconds: number;
  error?: string;
}

export function machine(): Machine {
  let cpu = os.cpus()[0]?.model ?? 'unknown';
  try {
    cpu = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpu;
  } catch {
    // not Linux
  }
  let cores = os.availableParallelism();
  try {
    cores = Number(execFileSync('nproc', { encoding: 'utf8' }).trim()) || cores;
  } catch {
    // nproc missing
  }
  return {
    cores,
    memoryGb: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    cpu,
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
  };
}

export function gitCommit(cwd: string): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd,
      encoding: 'utf8',
    }).trim();
    return dirty ? `${sha} (with uncommitted changes)` : sha;
  } catch {
    return 'unknown';
  }
}

const num = (v: number | null | undefined, unit = '') =>
  v === null || v === undefined || Number.isNaN(v) ? '–' : `${v}${unit}`;

/** Hookflow's figure over the baseline's; for times and latencies above 1 means slower. */
function ratio(ours: number | null | undefined, base: number | null | undefined): string {
  if (!ours || !base) return '–';
  return `${(ours / base).toFixed(2)}×`;
}

type Value = number | null | undefined;
/** scenario, figure, Hookflow, bare Temporal, bare Temporal with a local activity, raw HTTP, notes */
type Row = [string, string, Value, Value, Value, Value, string];

/** Hookflow's processes, one by one: `Hookflow 12.3 (API 4.1, worker 8.2), Temporal 9.8, PostgreSQL 3.1`. */
function cpuNote(c: CpuMs | null | undefined): string {
  if (!c) return '';
  const split = c.api !== undefined ? ` (API ${num(c.api)}, worker ${num(c.worker)})` : '';
  return `Hookflow ${num(c.hookflow)}${split}, Temporal ${num(c.temporal)}, PostgreSQL ${num(c.postgres)}`;
}

export function markdown(r: Results): string {
  const rows: Row[] = [];
  const tl = r.temporalLocal;
  const d = (label: string, ours?: Delivered, t?: Delivered, l?: Delivered, raw?: Delivered) => {
    rows.push([label, 'deliveries/s ↑', ours?.perSecond, t?.perSecond, l?.perSecond, raw?.perSecond, '']);
    for (const p of ['p50', 'p95', 'p99'] as const)
      rows.push([
        label,
        `send→receipt ${p} ms ↓`,
        ours?.latency[p],
        t?.latency[p],
        l?.latency[p],
        raw?.latency[p],
        '',
      ]);
  };
  const server = r.settings.temporal === 'server';
  /** CPU ms per delivery by process; the baselines' own worker stands where Hookflow's does. */
  const cpu = (label: string, ours?: CpuMs | null, t?: CpuMs | null, l?: CpuMs | null) => {
    const figure = (what: string) => `CPU ms per delivery, ${what} ↓`;
    rows.push([
      label,
      figure('Hookflow'),
      ours?.hookflow,
      t?.baselineWorker,
      l?.baselineWorker,
      null,
      (ours?.api !== undefined ? `API ${ours.api}, worker ${ours.worker}; ` : '') +
        'baselines: their worker process',
    ]);
    rows.push([
      label,
      figure(server ? 'Temporal server' : 'Temporal dev server'),
      ours?.temporal,
      t?.temporal,
      l?.temporal,
      null,
      server && ours?.temporalDb !== undefined ? `its PostgreSQL ${ours.temporalDb} of it` : '',
    ]);
    rows.push([label, figure('PostgreSQL'), ours?.postgres, null, null, null, 'all backends']);
    rows.push([
      label,
      figure('stack'),
      ours?.stack,
      t?.stack,
      l?.stack,
      null,
      'Hookflow + Temporal + PostgreSQL; baselines: worker + Temporal',
    ]);
  };
  if (r.endToEnd || r.temporal || tl || r.raw) {
    const label = `end to end, ${r.endToEnd?.count ?? r.settings.messages} messages`;
    d(label, r.endToEnd, r.temporal, tl, r.raw);
    cpu(label, r.endToEnd?.cpuMs, r.temporal?.cpuMs, tl?.cpuMs);
  }
  if (r.endToEnd)
    rows.push([
      'end to end',
      'POST /msg → 202 p50/p99 ms',
      r.endToEnd.sendLatency.p50,
      r.temporal?.sendLatency.p50,
      tl?.sendLatency.p50,
      r.raw?.sendLatency.p50,
      `p99 ${r.endToEnd.sendLatency.p99} (start p99 ${num(r.temporal?.sendLatency.p99)}, local ${num(tl?.sendLatency.p99)})`,
    ]);
  if (r.temporalWithSearchAttributes) {
    const t = r.temporalWithSearchAttributes;
    rows.push([
      'bare Temporal + search attributes',
      'deliveries/s ↑ (Hookflow column: this variant)',
      t.perSecond,
      r.temporal?.perSecond,
      null,
      r.raw?.perSecond,
      `p50 ${t.latency.p50} ms; start p50 ${t.sendLatency.p50} ms`,
    ]);
  }
  if (r.ingestNoEndpoint) {
    const i = r.ingestNoEndpoint;
    rows.push([
      'ingest, no endpoint',
      `accepted/s at ${i.connections} connections ↑`,
      i.perSecond,
      r.temporal?.sendPerSecond,
      tl?.sendPerSecond,
      r.raw?.sendPerSecond,
      `p50 ${i.latency.p50} ms, p99 ${i.latency.p99} ms; ${i.accepted} answered 202, ${i.stored} stored`,
    ]);
  }
  if (r.ingest) {
    const i = r.ingest;
    rows.push([
      'ingest',
      `accepted/s at ${i.connections} connections ↑`,
      i.perSecond,
      r.temporal?.sendPerSecond,
      tl?.sendPerSecond,
      r.raw?.sendPerSecond,
      'baselines: workflow starts/s, raw POSTs/s',
    ]);
    for (const p of ['p50', 'p99'] as const)
      rows.push([
        'ingest',
        `latency ${p} ms ↓`,
        i.latency[p],
        r.temporal?.sendLatency[p],
        tl?.sendLatency[p],
        r.raw?.sendLatency[p],
        '',
      ]);
    const a = i.cpuMsPerAccepted;
    rows.push([
      'ingest',
      'CPU ms per accepted message, API, during the burst ↓',
      a?.api ?? a?.hookflow,
      null,
      null,
      null,
      (a?.api === undefined ? 'one process: API and worker; ' : `worker ${a.worker}; `) +
        `Temporal ${num(a?.temporal)}, PostgreSQL ${num(a?.postgres)}, stack ${num(a?.stack)}`,
    ]);
    rows.push([
      'ingest backlog',
      'delivered/s until drained ↑',
      i.deliveredPerSecond,
      r.temporal?.perSecond,
      tl?.perSecond,
      r.raw?.perSecond,
      `${i.accepted} answered 202 in the burst, ${i.stored} stored, ${i.delivered} delivered, ${i.lost} lost; drained ${i.drainSeconds}s after the burst`,
    ]);
    rows.push([
      'ingest backlog',
      'CPU ms per delivery, stack, burst → drained ↓',
      i.cpuMsPerDelivery?.stack,
      r.temporal?.cpuMs?.stack,
      tl?.cpuMs?.stack,
      null,
      cpuNote(i.cpuMsPerDelivery),
    ]);
  }
  if (r.fanOut100) {
    const label = 'fan-out 1 × 100 endpoints';
    rows.push([
      label,
      'seconds until all 100 ↓',
      r.fanOut100.seconds,
      r.fanOut100Temporal?.seconds,
      r.fanOut100TemporalLocal?.seconds,
      r.fanOut100Raw?.seconds,
      'baselines: 100 workflows / 100 POSTs',
    ]);
    rows.push([
      label,
      'CPU ms per delivery, stack ↓',
      r.fanOut100.cpuMs?.stack,
      r.fanOut100Temporal?.cpuMs?.stack,
      r.fanOut100TemporalLocal?.cpuMs?.stack,
      null,
      cpuNote(r.fanOut100.cpuMs),
    ]);
  }
  if (r.fanOutMany) {
    const label = `fan-out ${r.fanOutMany.messages} × ${r.fanOutMany.endpoints} endpoints`;
    rows.push([
      label,
      'deliveries/s ↑',
      r.fanOutMany.perSecond,
      r.temporal?.perSecond,
      tl?.perSecond,
      r.raw?.perSecond,
      `${r.fanOutMany.deliveries} deliveries in ${r.fanOutMany.seconds}s; p99 ${r.fanOutMany.latency.p99} ms`,
    ]);
    rows.push([
      label,
      'CPU ms per delivery, stack ↓',
      r.fanOutMany.cpuMs?.stack,
      r.temporal?.cpuMs?.stack,
      tl?.cpuMs?.stack,
      null,
      cpuNote(r.fanOutMany.cpuMs),
    ]);
  }
  rows.push([
    'peak RSS',
    'API + worker MB ↓',
    r.rssMb.apiPlusWorker,
    r.rssMb.baselineWorker,
    r.rssMb.baselineWorker,
    null,
    (r.settings.processes === 'server'
      ? 'one process, `hookflow server`'
      : `API ${num(r.rssMb.api)}, worker ${num(r.rssMb.worker)}`) +
      '; baseline columns: the bare-Temporal worker (one process runs both baselines)',
  ]);

  const lines = [
    '| scenario | figure | Hookflow | bare Temporal | ratio | bare Temporal, local activity | ratio | raw HTTP | ratio | notes |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...rows.map(
      ([s, f, o, t, l, h, n]) =>
        `| ${s} | ${f} | ${num(o)} | ${num(t)} | ${ratio(o, t)} | ${num(l)} | ${ratio(o, l)} | ${num(h)} | ${ratio(o, h)} | ${n} |`,
    ),
  ];
  const targets = Object.entries(r.targets).map(
    ([k, t]) =>
      `- ${k}: ${t.value} (target ${t.target}) — ${t.met === null ? 'not measured' : t.met ? 'met' : '**not met**'}`,
  );
  const b = r.endToEndBreakdown;
  return [
    `### ${r.date}`,
    '',
    `- command: \`${r.command}\``,
    `- commit: ${r.commit}`,
    `- machine: ${r.machine.cores} cores (nproc), ${r.machine.memoryGb} GB, ${r.machine.cpu}; Node ${r.machine.node}; ${r.machine.platform}`,
    `- settings: concurrency ${r.settings.concurrency}, ${r.settings.messages} messages, ingest ${r.settings.ingestSeconds}s, Hookflow as ${r.settings.processes === 'server' ? 'one process (`hookflow server`)' : 'two processes (`hookflow api`, `hookflow worker`)'} with workflows ${r.settings.workflowRunner === 'thread' ? "in the SDK's workflow thread" : 'in process'}, ${r.settings.temporal === 'server' ? 'the Temporal server docker-compose.yml names, on PostgreSQL (Temporal column: server and its PostgreSQL)' : `Temporal dev server with a ${r.settings.temporalDb} SQLite database`}, apps and endpoints created via ${r.settings.setupVia}, baseline worker: ${r.settings.baselineWorker === 'in-process' ? "workflows in process, as Hookflow's" : "the SDK's stock worker"}` +
      (Object.keys(r.settings.env).length
        ? `, env ${Object.entries(r.settings.env)
            .map(([k, v]) => `${k}=${v}`)
            .join(' ')}`
        : ''),
    `- load average (1 min) at start / end: ${r.machine.loadAverage?.start ?? '–'} / ${r.machine.loadAverage?.end ?? '–'}`,
    `- whole run: ${r.durationSeconds}s; signatures checked on a sample: ${r.signatures.verified} valid, ${r.signatures.bad} invalid`,
    ...(r.error ? [`- **the run failed**: ${r.error}`] : []),
    '',
    ...lines,
    '',
    ...(r.temporalLocalRuns
      ? [
          `Local-activity baseline run before and after end to end (the later run meets bigger Temporal tables): ${r.temporalLocalRuns.map((t) => `${t.perSecond}/s, server ${num(t.cpuMs?.temporal)} ms`).join(' then ')}; its column pools both.`,
          '',
        ]
      : []),
    ...(b
      ? [
          `End-to-end breakdown (from PostgreSQL, p50/p95 ms): stored → workflow started ${b.storedToDispatched.p50}/${b.storedToDispatched.p95}; stored → attempt recorded ${b.storedToAttempt.p50}/${b.storedToAttempt.p95}; HTTP call ${b.httpMs.p50}/${b.httpMs.p95}.${b.starts ? ` Workflow starts so far (warm-up included): ${b.starts.eager} eager, ${b.starts.plain} plain.` : ''}`,
          '',
        ]
      : []),
    ...(r.tables ? [tablesLine(r.tables), ''] : []),
    ...(r.temporalStorage
      ? [
          `- Temporal's PostgreSQL (persistence and visibility) grew ${r.temporalStorage.bytesPerDelivery} bytes per delivery over the ${r.temporalStorage.deliveries} end-to-end deliveries (before any retention)`,
          '',
        ]
      : []),
    ...targets,
    '',
  ].join('\n');
}

/** Table bytes per 1,000 deliveries, and what one retention pass over everything left. */
function tablesLine(t: TableBytes): string {
  const kb = (b: number) => `${Math.round(b / 1024)} kB`;
  const before = Object.entries(t.before)
    .map(([table, b]) => `${table} ${kb(b)}`)
    .join(', ');
  const after = Object.entries(t.after)
    .map(([table, a]) => `${table} ${a.rows} rows, ${kb(a.bytes)}`)
    .join('; ');
  const total = Object.values(t.before).reduce((a, b) => a + b, 0);
  return (
    `Tables per 1,000 deliveries (${t.deliveries} deliveries stored): ${before}; ${kb(total)} in all. ` +
    `After a retention pass that expired everything (${t.retentionSeconds.toFixed(1)} s) and VACUUM: ${after}.`
  );
}
