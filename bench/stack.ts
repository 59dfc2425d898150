import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres } from '../src/postgres/embedded';
import { resolveBinary, TEMPORAL_CLI } from '../src/temporal/cli-resolver';
import { freePort, startDevServer } from '../src/temporal/dev-server';
import { migrate, openOrm } from '../src/db/orm';
import { parse } from 'yaml';
import { composeTemporalSettings, startTemporalServer } from '../src/temporal/server';
import { temporalServerBuild } from '../src/temporal/server-build';
import { connectClient } from '../src/temporal/connection';
import { registerSearchAttributes } from '../src/temporal/search-attributes';
import { loadConfig } from '../src/config';

export const REPO = path.resolve(__dirname, '..', '..');

/** One process the bench started: its peak resident memory is read from /proc. */
export interface Child {
  name: string;
  process: ChildProcess;
  /** Resident set high-water mark in MB (VmHWM), since the process started. */
  peakRssMb(): number | null;
  /** Current resident set in MB (VmRSS). */
  rssMb(): number | null;
  stop(): Promise<void>;
}

function procStatusMb(pid: number | undefined, field: 'VmHWM' | 'VmRSS'): number | null {
  if (!pid) return null;
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${field}:`));
    return line ? Math.round(Number(line.split(/\s+/)[1]) / 1024) : null;
  } catch {
    return null;
  }
}

export function spawnNode(
  name: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  log: (m: string) => void,
): Child {
  const child = spawn(process.execPath, args, { cwd: REPO, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let lastPeak: number | null = null;
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  child.once('exit', (code, signal) => {
    if (!stopping) log(`${name} exited (${code ?? signal}): ${stderr.trim().slice(-1500)}`);
  });
  let stopping = false;
  return {
    name,
    process: child,
    peakRssMb() {
      // Read while alive; after exit the last value read stands.
      const v = procStatusMb(child.pid, 'VmHWM');
      if (v !== null) lastPeak = v;
      return lastPeak;
    },
    rssMb: () => procStatusMb(child.pid, 'VmRSS'),
    stop() {
      stopping = true;
      return new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode) return resolve();
        const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
        child.once('exit', () => (clearTimeout(kill), resolve()));
        child.kill('SIGTERM');
      });
    },
  };
}

export interface Stack {
  tmp: string;
  databaseUrl: string;
  temporalAddress: string;
  temporalBinary: string;
  apiUrl: string;
  adminToken: string;
  secretKey: string;
  /** Root processes of the servers, for CPU time (bench/cpu.ts): the postmaster, the dev server. */
  postgresPid: number;
  temporalPid: number;
  /** With `--temporal server`: the postmaster of Temporal's own PostgreSQL (its persistence and visibility). */
  temporalPostgresPid: number | null;
  /** With `--temporal server`: a URL of Temporal's PostgreSQL (for the size of its databases). */
  temporalPostgresUrl: string | null;
  temporal: TemporalKind;
  /** How Hookflow runs: `server` (API and worker in one process) or `split` (two). */
  processes: Processes;
  /** The process that serves the API (in `server` mode, also the worker). */
  api: Child;
  /** The worker process; the same as `api` in `server` mode. */
  worker: Child;
  /** Env for a production process (API, worker, baseline worker). */
  env(extra?: Record<string, string>): NodeJS.ProcessEnv;
  spawn(name: string, args: string[], extra?: Record<string, string>): Child;
  stop(): Promise<void>;
}

export type Processes = 'server' | 'split';
/** `dev`: the Temporal CLI's dev server (SQLite); `server`: the Temporal server on PostgreSQL, as docker-compose.yml runs it. */
export type TemporalKind = 'dev' | 'server';

export interface StackOptions {
  processes: Processes;
  /** `file` (a temp SQLite file in WAL mode, like `npm start`) or `memory`. */
  temporalDb: 'file' | 'memory';
  temporal: TemporalKind;
  /** Extra environment for the API and worker (e.g. DATABASE_POOL_MAX). */
  hookflowEnv: Record<string, string>;
  /** Extra node flags for the API and worker (e.g. --cpu-prof). */
  nodeArgs?: string[];
  log: (m: string) => void;
}

async function waitForHealth(url: string, child: Child, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.process.exitCode !== null) throw new Error(`${child.name} exited before it answered`);
    try {
      const res = await fetch(`${url}/api/v1/health`);
      if (res.status === 204 || res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${child.name} did not answer ${url}/api/v1/health within ${timeoutMs / 1000}s`);
}

/**
 * The stack as production runs it: embedded PostgreSQL, a Temporal dev server, migrations,
 * then `hookflow server` (API and worker in one process) or `hookflow api` and `hookflow worker`. Every piece started is
 * registered for `stop()` as soon as it exists, so a failure half way still cleans up.
 */
export async function startStack(opts: StackOptions): Promise<Stack> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'hookflow-bench-'));
  chmodSync(tmp, 0o755);
  const stops: Array<() => Promise<void>> = [];
  const children: Child[] = [];
  const stop = async () => {
    for (const c of children.splice(0).reverse()) await c.stop().catch(() => undefined);
    for (const s of stops.splice(0).reverse()) await s().catch(() => undefined);
    // PostgreSQL may still be writing its last files as it exits: retry the removal.
    rmSync(tmp, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  };
  try {
    opts.log('starting embedded PostgreSQL');
    const pg = await startEmbeddedPostgres({
      dataDir: path.join(tmp, 'postgres'),
      port: await freePort(),
      log: opts.log,
    });
    stops.push(() => pg.stop());
    // The postmaster's pid, from its pid file: the package does not hand out its process.
    const postgresPid = Number(
      readFileSync(path.join(tmp, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0],
    );
    const temporalBinary = resolveBinary(TEMPORAL_CLI, path.join(REPO, '.hookflow', 'bin'), opts.log);
    let temporalAddress: string;
    let temporalPid: number;
    let temporalPostgresPid: number | null = null;
    let temporalPostgresUrl: string | null = null;
    if (opts.temporal === 'server') {
      // Temporal's databases in a PostgreSQL of their own, so its CPU is told apart from Hookflow's.
      const temporalPg = await startEmbeddedPostgres({
        dataDir: path.join(tmp, 'temporal-postgres'),
        port: await freePort(),
        database: 'postgres_unused',
        log: opts.log,
      });
      stops.push(() => temporalPg.stop());
      temporalPostgresUrl = temporalPg.url;
      temporalPostgresPid = Number(
        readFileSync(path.join(tmp, 'temporal-postgres', 'postmaster.pid'), 'utf8').split('\n')[0],
      );
      const { settings, version } = composeTemporalSettings(
        parse(readFileSync(path.join(REPO, 'docker-compose.yml'), 'utf8'), { merge: true }),
      );
      opts.log(
        `starting the Temporal server ${version} on PostgreSQL (${settings.NUM_HISTORY_SHARDS} shards)`,
      );
      const server = await startTemporalServer({
        build: temporalServerBuild(opts.log, version),
        cli: temporalBinary,
        postgres: {
          host: '127.0.0.1',
          port: Number(new URL(temporalPg.url).port),
          user: 'hookflow',
          password: 'hookflow',
        },
        settings,
        logFile: path.join(tmp, 'temporal.log'),
      });
      stops.push(() => server.stop());
      temporalAddress = server.address;
      temporalPid = server.process().pid!;
      // What `hookflow migrate` does for Temporal: the search attributes, in the namespace's visibility.
      const client = await connectClient(loadConfig({ TEMPORAL_ADDRESS: temporalAddress }));
      await registerSearchAttributes(client, 'default');
      await client.connection.close();
    } else {
      opts.log(`starting the Temporal dev server (${opts.temporalDb} database)`);
      const server = await startDevServer({
        binary: temporalBinary,
        port: await freePort(),
        uiPort: null,
        dbFile: opts.temporalDb === 'file' ? path.join(tmp, 'temporal.db') : undefined,
      });
      stops.push(() => server.stop());
      temporalAddress = server.address;
      temporalPid = server.process.pid!;
    }
    const orm = await openOrm(pg.url);
    await migrate(orm);
    await orm.close();

    const adminToken = `bench_${randomBytes(16).toString('hex')}`;
    const secretKey = randomBytes(32).toString('base64');
    const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'production',
      DATABASE_URL: pg.url,
      TEMPORAL_ADDRESS: temporalAddress,
      HOOKFLOW_ADMIN_TOKEN: adminToken,
      HOOKFLOW_SECRET_KEY: secretKey,
      HOOKFLOW_ALLOWED_CIDRS: '127.0.0.0/8',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      ...opts.hookflowEnv,
      ...extra,
    });
    const spawnChild = (name: string, args: string[], extra?: Record<string, string>) => {
      const c = spawnNode(name, args, env(extra), opts.log);
      children.push(c);
      return c;
    };
    const port = await freePort();
    const cli = path.join(REPO, 'dist', 'src', 'cli', 'index.js');
    const nodeArgs = opts.nodeArgs ?? [];
    let api: Child;
    let worker: Child;
    if (opts.processes === 'server') {
      opts.log('starting `hookflow server` (API and worker in one process)');
      api = worker = spawnChild('server', [...nodeArgs, cli, 'server'], { PORT: String(port) });
    } else {
      opts.log('starting `hookflow api` and `hookflow worker`');
      api = spawnChild('api', [...nodeArgs, cli, 'api'], { PORT: String(port) });
      worker = spawnChild('worker', [...nodeArgs, cli, 'worker']);
    }
    const apiUrl = `http://127.0.0.1:${port}`;
    await waitForHealth(apiUrl, api, 60_000);
    return {
      tmp,
      databaseUrl: pg.url,
      temporalAddress,
      temporalBinary,
      apiUrl,
      adminToken,
      secretKey,
      postgresPid,
      temporalPid,
      temporalPostgresPid,
      temporalPostgresUrl,
      temporal: opts.temporal,
      processes: opts.processes,
      api,
      worker,
      env,
      spawn: spawnChild,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
