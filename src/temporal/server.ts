import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort, portIsFree, portOpen } from './dev-server';
import type { TemporalServerBuild } from './server-build';
import { projectRoot } from '../state';

const run = promisify(execFile);
const DEPLOY = path.join(projectRoot(), 'deploy', 'temporal');

export interface TemporalServerOptions {
  build: TemporalServerBuild;
  /** The Temporal CLI, for create-namespace.sh. */
  cli: string;
  postgres: { host: string; port: number; user: string; password: string };
  /**
   * The server image's environment as docker-compose.yml gives it (DB, NUM_HISTORY_SHARDS,
   * DYNAMIC_CONFIG_FILE_PATH, …); addresses and ports are replaced by loopback ones here.
   */
  settings: Record<string, string>;
  /** Where the server's output goes (appended across restarts). */
  logFile: string;
  namespace?: string;
  /**
   * Serve the server's metrics in Prometheus' format (its config template's
   * PROMETHEUS_ENDPOINT), e.g. the `action` counter that approximates Temporal Cloud's metering.
   */
  metrics?: boolean;
}

export interface TemporalServer {
  address: string;
  process(): ChildProcess;
  /** SIGTERM, then SIGKILL after 15 s. */
  stop(): Promise<void>;
  /** Starts it again on the same ports and databases (after stop() or a kill). */
  start(): Promise<void>;
  logFile: string;
  /** The Prometheus scrape URL, when started with `metrics`. */
  metricsUrl?: string;
}

/**
 * A free port below 32768: the server records its membership ports in a `smallint` column,
 * and the kernel's ephemeral range (what port 0 gives) starts above it.
 */
async function freeMembershipPort(taken: Set<number>): Promise<number> {
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    if (!taken.has(port) && (await portIsFree(port))) return port;
  }
}

async function waitForPort(
  port: number,
  child: ChildProcess,
  logFile: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const tail = readFileSync(logFile, 'utf8').trim().split('\n').slice(-15).join('\n');
      throw new Error(`Temporal server exited (${child.exitCode ?? child.signalCode}):\n${tail}`);
    }
    if (await portOpen(port)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`Temporal server did not open port ${port} within ${timeoutMs / 1000} s (log: ${logFile})`);
}

/**
 * A real Temporal server (all four services in one process) on PostgreSQL, set up the way
 * docker-compose.yml sets up its `temporal` service: deploy/temporal/setup-schema.sh, the
 * server's own config template rendered from the same environment, the same dynamic
 * configuration, then deploy/temporal/create-namespace.sh.
 */
export async function startTemporalServer(opts: TemporalServerOptions): Promise<TemporalServer> {
  const { build, postgres } = opts;
  const toolPath = [path.dirname(build.sqlTool), path.dirname(opts.cli), process.env.PATH].join(
    path.delimiter,
  );
  const dbEnv = {
    POSTGRES_SEEDS: postgres.host,
    DB_PORT: String(postgres.port),
    // The template reads the visibility store's port from POSTGRES_PORT (default 5432), not DB_PORT.
    POSTGRES_PORT: String(postgres.port),
    POSTGRES_USER: postgres.user,
    POSTGRES_PWD: postgres.password,
  };
  await run('sh', [path.join(DEPLOY, 'setup-schema.sh')], {
    env: { ...process.env, ...opts.settings, ...dbEnv, TEMPORAL_HOME: build.home, PATH: toolPath },
  });

  const ports: Record<string, number> = {};
  const taken = new Set<number>();
  for (const service of ['FRONTEND', 'HISTORY', 'MATCHING', 'WORKER']) {
    ports[`${service}_GRPC_PORT`] = await freePort();
    taken.add((ports[`${service}_MEMBERSHIP_PORT`] = await freeMembershipPort(taken)));
  }
  ports.FRONTEND_HTTP_PORT = await freePort();
  const metricsPort = opts.metrics ? await freePort() : null;
  const dynamicConfig = path.join(
    DEPLOY,
    'dynamicconfig',
    path.basename(opts.settings.DYNAMIC_CONFIG_FILE_PATH),
  );
  const env = {
    ...process.env,
    ...opts.settings,
    ...dbEnv,
    ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
    BIND_ON_IP: '127.0.0.1',
    TEMPORAL_BROADCAST_ADDRESS: '127.0.0.1',
    DYNAMIC_CONFIG_FILE_PATH: dynamicConfig,
    LOG_LEVEL: process.env.TEMPORAL_LOG_LEVEL ?? 'warn',
    ...(metricsPort ? { PROMETHEUS_ENDPOINT: `127.0.0.1:${metricsPort}` } : {}),
  };
  const address = `127.0.0.1:${ports.FRONTEND_GRPC_PORT}`;
  let child: ChildProcess;

  const start = async () => {
    const out = openSync(opts.logFile, 'a');
    child = spawn(build.server, ['--config-file', build.configTemplate, '--allow-no-auth', 'start'], {
      env,
      stdio: ['ignore', out, out],
    });
    closeSync(out);
    await waitForPort(ports.FRONTEND_GRPC_PORT, child, opts.logFile, 120_000);
  };
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.once('exit', () => (clearTimeout(kill), resolve()));
      child.kill('SIGTERM');
    });

  await start();
  try {
    await run('sh', [path.join(DEPLOY, 'create-namespace.sh')], {
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: address,
        TEMPORAL_NAMESPACE: opts.namespace ?? 'default',
        PATH: toolPath,
      },
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    address,
    process: () => child,
    stop,
    start,
    logFile: opts.logFile,
    ...(metricsPort ? { metricsUrl: `http://127.0.0.1:${metricsPort}/metrics` } : {}),
  };
}

/**
 * The `temporal` service of a parsed docker-compose.yml: its image version and the
 * environment its config template renders from. Host-specific entries (addresses, ports,
 * credentials) are left out; startTemporalServer supplies loopback ones.
 */
export function composeTemporalSettings(compose: {
  services: Record<string, { image?: string; environment?: Record<string, unknown> }>;
}): { version: string; settings: Record<string, string> } {
  const service = compose.services.temporal;
  const version = /^temporalio\/server:(.+)$/.exec(service?.image ?? '')?.[1];
  if (!version)
    throw new Error('docker-compose.yml: the temporal service must run temporalio/server:<version>');
  const hostSpecific =
    /^(POSTGRES_(SEEDS|USER|PWD|PORT)|DB_PORT|BIND_ON_IP|TEMPORAL_BROADCAST_ADDRESS|.*_PORT)$/;
  const settings = Object.fromEntries(
    Object.entries(service.environment ?? {})
      .filter(([k]) => !hostSpecific.test(k))
      .map(([k, v]) => [k, String(v)]),
  );
  if (!settings.DYNAMIC_CONFIG_FILE_PATH)
    throw new Error('docker-compose.yml: temporal needs DYNAMIC_CONFIG_FILE_PATH');
  return { version, settings };
}
