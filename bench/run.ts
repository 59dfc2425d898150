import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command, Option } from 'commander';
import { Client, Connection } from '@temporalio/client';
import { breakdown, startsOf } from './breakdown';
import { databaseBytes, tableBytes } from './tables';
import { CpuMeter } from './cpu';
import { HookflowClient } from './hookflow-client';
import { BenchReceiver } from './receiver';
import { gitCommit, machine, markdown, type Results } from './report';
import { bareTemporal, endToEnd, fanOut, ingest, pooled, rawHttp, type Ctx } from './scenarios';
import { fairness } from './fairness';
import { REPO, startStack, type Child, type Stack } from './stack';
import { targets } from './targets';
import { freePort } from '../src/temporal/dev-server';
import { Progress, round } from './util';

const SERVER_NODE_OPTIONS = '--max-semi-space-size=4 --max-old-space-size=384';
const SCENARIOS = [
  'raw',
  'temporal',
  'temporal-local',
  'e2e',
  'fanout',
  'ingest',
  'fairness',
  'retention',
] as const;
/**
 * Waits until the Temporal server and PostgreSQL are idle (each under 5% of a core for two
 * seconds running), 150 s at most: a scenario leaves timer tasks that fire later (the
 * plain-activity baseline's 2-minute activity timeouts, every workflow task's 10 s timeout)
 * and dead rows for autovacuum, and the next scenario would pay for them. Returns the
 * seconds waited.
 */
async function untilQuiet(meter: CpuMeter): Promise<number> {
  const started = Date.now();
  const busy = () => {
    const { bench: _own, ...servers } = meter.read();
    return servers;
  };
  let calm = 0;
  let last = busy();
  while (calm < 2 && Date.now() - started < 150_000) {
    await new Promise((r) => setTimeout(r, 1000));
    const now = busy();
    calm = Object.keys(now).every((k) => now[k] - last[k] < 50) ? calm + 1 : 0;
    last = now;
  }
  return Math.round((Date.now() - started) / 1000);
}

/** Run only when named in --only: experiments, not part of the default table. */
const EXTRA = ['temporal-sa'] as const;

const program = new Command('npm run bench --')
  .description(
    'Hookflow benchmarks: ingest, end to end, fan-out, beside bare Temporal and raw HTTP, on a stack of their own',
  )
  .option('--messages <n>', 'messages for end to end and the baselines', (v) => parseInt(v, 10), 2000)
  .option('--scale <n>', 'multiply every size (messages, fan-out, ingest duration)', (v) => parseFloat(v), 1)
  .option('--concurrency <n>', 'requests in flight for every load generator', (v) => parseInt(v, 10), 32)
  .option(
    '--fanout-messages <n>',
    'messages in the many-messages fan-out (× 10 endpoints)',
    (v) => parseInt(v, 10),
    1000,
  )
  .option('--ingest-seconds <n>', 'length of the ingest burst', (v) => parseInt(v, 10), 10)
  .option(
    '--fairness-messages <n>',
    "application A's burst (and replay) in the fairness scenario",
    (v) => parseInt(v, 10),
    10_000,
  )
  .option(
    '--only <list>',
    `comma-separated subset of ${SCENARIOS.join(',')}, or the extra ${EXTRA.join(',')}`,
  )
  .addOption(
    new Option(
      '--processes <mode>',
      'server: `hookflow server`, API and worker in one process; split: `hookflow api` and `hookflow worker`',
    )
      .choices(['server', 'split'])
      .default('server'),
  )
  .addOption(
    new Option('--temporal-db <kind>', 'the dev server database').choices(['file', 'memory']).default('file'),
  )
  .addOption(
    new Option(
      '--temporal <kind>',
      "dev: the Temporal CLI's dev server (SQLite); server: the Temporal server docker-compose.yml names, on PostgreSQL (built from its Go module once)",
    )
      .choices(['dev', 'server'])
      .default('dev'),
  )
  .option('--env <KEY=VALUE...>', 'extra environment for the API and worker (e.g. DATABASE_POOL_MAX=20)', [])
  .option(
    '--profile <dir>',
    'write V8 CPU profiles of the API and worker into <dir> (open them in Chrome DevTools)',
  )
  .addOption(
    new Option(
      '--workflow-runner <mode>',
      "Hookflow's HOOKFLOW_WORKFLOW_RUNNER: thread (the default, the SDK's workflow thread) or in-process",
    )
      .choices(['thread', 'in-process'])
      .default('thread'),
  )
  .option(
    '--baseline-in-process',
    "run the bare-Temporal baselines' workflows in process, as Hookflow's worker does (default: the SDK's stock worker)",
  )
  .option('--no-append', 'do not append the table to docs/benchmarks-history.md');

interface Opts {
  messages: number;
  scale: number;
  concurrency: number;
  ingestSeconds: number;
  fanoutMessages: number;
  fairnessMessages: number;
  only?: string;
  temporalDb: 'file' | 'memory';
  temporal: 'dev' | 'server';
  processes: 'server' | 'split';
  env: string[];
  append: boolean;
  profile?: string;
  baselineInProcess?: boolean;
  workflowRunner: 'thread' | 'in-process';
}

async function main(): Promise<number> {
  const opts = program.parse(process.argv).opts<Opts>();
  const only = new Set(opts.only ? opts.only.split(',').map((s) => s.trim()) : SCENARIOS);
  for (const s of only)
    if (![...SCENARIOS, ...EXTRA].includes(s as never)) throw new Error(`--only: unknown scenario "${s}"`);
  const messages = Math.max(1, Math.round(opts.messages * opts.scale));
  const ingestSeconds = Math.max(1, Math.round(opts.ingestSeconds * opts.scale));
  const fanOutMessages = Math.max(1, Math.round(opts.fanoutMessages * opts.scale));
  const fairnessMessages = Math.max(1, Math.round(opts.fairnessMessages * opts.scale));
  const env: Record<string, string> = {
    // The small-install memory budget docs/operations.md gives for `hookflow server`
    // (what a ~512 MB container gets); `--env NODE_OPTIONS=` runs without it.
    ...(opts.processes === 'server' ? { NODE_OPTIONS: SERVER_NODE_OPTIONS } : {}),
    HOOKFLOW_WORKFLOW_RUNNER: opts.workflowRunner,
  };
  Object.assign(
    env,
    Object.fromEntries(
      opts.env.map((kv) => {
        const i = kv.indexOf('=');
        if (i < 1) throw new Error(`--env ${kv}: expected KEY=VALUE`);
        return [kv.slice(0, i), kv.slice(i + 1)];
      }),
    ),
  );
  const started = performance.now();
  const progress = new Progress();
  const log = (m: string) => progress.log(`· ${m}`);
  const date = new Date().toISOString();
  const loadStart = Math.round(os.loadavg()[0] * 100) / 100;
  const results: Results = {
    date,
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    commit: gitCommit(REPO),
    machine: machine(),
    settings: {
      messages,
      concurrency: opts.concurrency,
      ingestSeconds,
      temporalDb: opts.temporalDb,
      temporal: opts.temporal,
      processes: opts.processes,
      setupVia: 'api',
      env,
      baselineWorker: opts.baselineInProcess ? 'in-process' : 'stock',
      // As run: `--env HOOKFLOW_WORKFLOW_RUNNER=` would win over the option.
      workflowRunner: env.HOOKFLOW_WORKFLOW_RUNNER as Opts['workflowRunner'],
    },
    rssMb: { api: null, worker: null, apiPlusWorker: null, baselineWorker: null },
    targets: {},
    signatures: { verified: 0, bad: 0 },
    durationSeconds: 0,
  };

  let stack: Stack | null = null;
  let baselineWorker: Child | null = null;
  const receiver = new BenchReceiver();
  let hookflow: HookflowClient | null = null;
  let connection: Connection | null = null;
  let stopping: Promise<void> | null = null;
  const cleanup = () =>
    (stopping ??= (async () => {
      progress.stop();
      await hookflow?.close().catch(() => undefined);
      await connection?.close().catch(() => undefined);
      await stack?.stop().catch(() => undefined);
      await receiver.close().catch(() => undefined);
    })());

  let finishing: Promise<number> | null = null;
  /** Reads peak memory, stops everything, writes what was measured (also after Ctrl-C). */
  const finish = () =>
    (finishing ??= (async () => {
      const split = stack?.processes === 'split';
      results.rssMb = {
        api: split ? (stack?.api.peakRssMb() ?? null) : null,
        worker: split ? (stack?.worker.peakRssMb() ?? null) : null,
        apiPlusWorker: !stack
          ? null
          : split
            ? (stack.api.peakRssMb() ?? 0) + (stack.worker.peakRssMb() ?? 0)
            : stack.api.peakRssMb(),
        baselineWorker: baselineWorker?.peakRssMb() ?? null,
      };
      await cleanup();
      results.signatures = { verified: receiver.verified, bad: receiver.badSignatures };
      if (receiver.badSignatures)
        results.error = `${results.error ? `${results.error}; ` : ''}${receiver.badSignatures} deliveries failed signature verification`;
      results.durationSeconds = round((performance.now() - started) / 1000);
      results.machine.loadAverage = { start: loadStart, end: Math.round(os.loadavg()[0] * 100) / 100 };
      results.targets = targets(results);

      const dir = path.join(REPO, 'bench', 'results');
      mkdirSync(dir, { recursive: true });
      const file = path.join(dir, `${date.replace(/:/g, '-')}.json`);
      writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
      const table = markdown(results);
      process.stdout.write(`\n${table}\nresults: ${path.relative(REPO, file)}\n`);
      if (opts.append) {
        // BENCHMARKS.md holds the latest full run, chosen by hand; every run's table goes to the history.
        const target = path.join(REPO, 'docs', 'benchmarks-history.md');
        if (!existsSync(target)) writeFileSync(target, '# Benchmarks\n\n## Runs\n\n');
        appendFileSync(target, `\n${table}`);
        // Formatted as `npm run lint` checks it, so a run's table can be committed as it is.
        const prettier = await import('prettier');
        const options = { ...(await prettier.resolveConfig(target)), filepath: target };
        writeFileSync(target, await prettier.format(readFileSync(target, 'utf8'), options));
        process.stdout.write('appended to docs/benchmarks-history.md\n');
      }
      return results.error ? 1 : 0;
    })());
  // A closed pipe (`| head`) must not kill the bench before it stops its processes.
  process.stdout.on('error', () => undefined);
  process.stderr.on('error', () => undefined);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
    process.once(sig, () => {
      process.stderr.write(
        `\n${sig}: stopping every process the bench started, then writing what was measured…\n`,
      );
      results.error = `interrupted (${sig})${results.error ? `; ${results.error}` : ''}`;
      void finish().finally(() => process.exit(130));
    });

  try {
    const receiverUrl = await receiver.listen();
    stack = await startStack({
      processes: opts.processes,
      temporalDb: opts.temporalDb,
      temporal: opts.temporal,
      hookflowEnv: env,
      nodeArgs: opts.profile ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(opts.profile)}`] : [],
      log,
    });
    const baselinePort = await freePort();
    baselineWorker = stack.spawn('baseline worker', [path.join(__dirname, 'baseline-worker.js')], {
      BENCH_BASELINE_PORT: String(baselinePort),
      ...(opts.baselineInProcess ? { BENCH_BASELINE_IN_PROCESS: '1' } : {}),
    });
    connection = await Connection.connect({ address: stack.temporalAddress });
    const temporal = new Client({ connection });
    hookflow = new HookflowClient(stack, receiverUrl, opts.concurrency);
    const pid = (c: Child) => c.process.pid!;
    const cpu = new CpuMeter({
      hookflow: [...new Set([pid(stack.api), pid(stack.worker)])],
      ...(stack.processes === 'split' ? { api: [pid(stack.api)], worker: [pid(stack.worker)] } : {}),
      // With --temporal server, Temporal's own PostgreSQL counts as Temporal's (and alone as temporalDb).
      temporal: [stack.temporalPid, ...(stack.temporalPostgresPid ? [stack.temporalPostgresPid] : [])],
      ...(stack.temporalPostgresPid ? { temporalDb: [stack.temporalPostgresPid] } : {}),
      postgres: [stack.postgresPid],
      baselineWorker: [pid(baselineWorker)],
    });
    const ctx: Ctx = {
      stack,
      receiver,
      receiverUrl,
      hookflow,
      temporal,
      progress,
      concurrency: opts.concurrency,
      runTag: Date.now().toString(36),
      cpu,
      baselineStartUrl: `http://127.0.0.1:${baselinePort}/start`,
    };

    // Warm-up, not measured: both workers polling, JIT warm, pools open.
    log('warming up');
    const savedConcurrency = ctx.concurrency;
    ctx.concurrency = 8;
    await endToEnd(ctx, 'warm', 50);
    await bareTemporal(ctx, 'warmwf', 50);
    await bareTemporal(ctx, 'warmla', 50, 'local');
    await rawHttp(ctx, 'warmraw', 50);
    ctx.concurrency = savedConcurrency;
    results.settings.setupVia = hookflow.setupVia;

    // A scenario that fails is recorded and the next one still runs.
    const errors: string[] = [];
    const quietFor = new CpuMeter({ temporal: [stack.temporalPid], postgres: [stack.postgresPid] });
    const step = async (name: string, fn: () => Promise<void>) => {
      if (!only.has(name)) return;
      const waited = await untilQuiet(quietFor);
      if (waited > 2)
        progress.log(`${name}: waited ${waited} s for the Temporal server and PostgreSQL to settle`);
      results.settledSeconds = { ...results.settledSeconds, [name]: waited };
      try {
        await fn();
      } catch (err) {
        errors.push(`${name}: ${(err as Error).message ?? String(err)}`);
        progress.finish();
        progress.log(`${name} failed: ${(err as Error).message}`);
      }
    };
    await step('raw', async () => void (results.raw = await rawHttp(ctx, 'raw', messages)));
    await step(
      'temporal',
      async () => void (results.temporal = await bareTemporal(ctx, 'temporal', messages)),
    );
    await step(
      'temporal-local',
      async () => void (results.temporalLocal = await bareTemporal(ctx, 'temporalla', messages, 'local')),
    );
    await step(
      'temporal-sa',
      async () =>
        void (results.temporalWithSearchAttributes = await bareTemporal(
          ctx,
          'temporalsa',
          messages,
          'searchAttributes',
        )),
    );
    await step('e2e', async () => {
      const temporalDbs = ['temporal', 'temporal_visibility'];
      const temporalUrl = stack!.temporalPostgresUrl;
      const bytesBefore = temporalUrl ? await databaseBytes(temporalUrl, temporalDbs) : 0;
      const { appId, ...e2e } = await endToEnd(ctx, 'e2e', messages);
      results.endToEnd = e2e;
      if (temporalUrl)
        results.temporalStorage = {
          deliveries: e2e.count,
          bytesPerDelivery: Math.round(
            ((await databaseBytes(temporalUrl, temporalDbs)) - bytesBefore) / e2e.count,
          ),
        };
      if (results.temporalLocal) {
        // Before and after: see `pooled`.
        await untilQuiet(quietFor);
        const after = await bareTemporal(ctx, 'temporalla2', messages, 'local');
        results.temporalLocalRuns = [results.temporalLocal, after];
        results.temporalLocal = pooled(results.temporalLocal, after);
      }
      results.endToEndBreakdown = {
        ...(await breakdown(stack!.databaseUrl, appId)),
        starts: await startsOf(stack!.apiUrl, stack!.adminToken).catch(() => undefined),
      };
    });
    await step('fanout', async () => {
      results.fanOut100Raw = await rawHttp(ctx, 'fan100raw', 100);
      results.fanOut100Temporal = await bareTemporal(ctx, 'fan100wf', 100);
      results.fanOut100TemporalLocal = await bareTemporal(ctx, 'fan100la', 100, 'local');
      results.fanOut100 = await fanOut(ctx, 'fan100', 1, 100);
    });
    await step('ingest', async () => {
      results.ingestNoEndpoint = await ingest(ctx, 'ingest0', ingestSeconds, opts.concurrency, 0);
      results.ingest = await ingest(ctx, 'ingest', ingestSeconds, opts.concurrency);
    });
    // The longest scenario last, so an interrupted run still has the others.
    await step(
      'fanout',
      async () => void (results.fanOutMany = await fanOut(ctx, 'fanmany', fanOutMessages, 10)),
    );
    // A burst, a replay and a silent run of 10,000 each: the longest of all.
    await step(
      'fairness',
      async () =>
        void (results.fairness = await fairness(ctx, 'fair', fairnessMessages, () => untilQuiet(quietFor))),
    );
    // Last: it deletes what the others stored.
    await step(
      'retention',
      async () => void (results.tables = await tableBytes(stack!.databaseUrl, temporal, 'hookflow')),
    );
    if (errors.length) results.error = errors.join('; ');
  } catch (err) {
    results.error = (err as Error).message ?? String(err);
    progress.log(`bench failed: ${results.error}`);
  }
  return finish();
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
