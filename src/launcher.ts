import path from 'node:path';
import { loadConfig, oneProcessDefaults, requireReady, type Config } from './config';
import { createLogger } from './logger';
import { persistentSecret, stateDir } from './state';
import { prepareEmbeddedPostgres } from './postgres/embedded';
import { resolveBinary, TEMPORAL_CLI } from './temporal/cli-resolver';
import { startDevServer, portIsFree } from './temporal/dev-server';
import { ChildOutput } from './supervision/child-output';
import { Supervisor, type RunningChild } from './supervision/supervisor';
import { describeError } from './errors';
import { buildServices, type Services } from './services';
import { migrate } from './db/orm';
import {
  connectWorkerConnection,
  startWorker,
  ensureReconcilerSchedule,
  ensureRetentionSchedule,
  type RunningWorker,
} from './worker';
import { startApi, type RunningApi } from './api-server';

const say = (msg: string) => process.stdout.write(`hookflow: ${msg}\n`);

interface Stop {
  name: string;
  stop(): Promise<void>;
}
const STOP_WAIT_MS = 20_000;

/**
 * One part's stop, bounded: a stop that never settles would otherwise let the event loop
 * drain and the process end silently, without "stopped" (Ctrl-C also reaches the children).
 */
async function bounded({ name, stop }: Stop): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`did not stop within ${STOP_WAIT_MS / 1000} s`), STOP_WAIT_MS);
  });
  const problem = await Promise.race([
    stop().then(
      () => null,
      (err: unknown) => describeError(err),
    ),
    late,
  ]);
  clearTimeout(timer);
  if (problem) say(`while stopping the ${name}: ${problem}`);
}

/**
 * `npm start`: the whole stack on embedded defaults. Whatever is configured (DATABASE_URL,
 * TEMPORAL_ADDRESS, keys) is used as given; whatever is not is started or generated here,
 * with its state in `.hookflow/`.
 */
export async function runDev(): Promise<void> {
  const dir = stateDir();
  const env = { ...process.env };
  const generated: string[] = [];
  if (!env.HOOKFLOW_ADMIN_TOKEN) {
    env.HOOKFLOW_ADMIN_TOKEN = persistentSecret(
      'admin-token',
      () => `hf_admin_${require('node:crypto').randomBytes(24).toString('base64url')}`,
    );
    generated.push('admin token');
  }
  if (!env.HOOKFLOW_SECRET_KEY) {
    env.HOOKFLOW_SECRET_KEY = persistentSecret('secret-key');
    generated.push('secret key');
  }
  if (env.HOOKFLOW_ALLOWED_CIDRS === undefined) {
    env.HOOKFLOW_ALLOWED_CIDRS = '127.0.0.0/8,::1/128';
    say(
      'HOOKFLOW_ALLOWED_CIDRS defaults to loopback (127.0.0.0/8, ::1) so you can deliver to local receivers; set it to "" to block them',
    );
  }
  const base: Config = loadConfig(oneProcessDefaults({ api: true, worker: true }, env));

  const stops: Stop[] = [];
  const supervisors: Supervisor[] = [];
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) {
      say('stopping at once');
      process.exit(code || 130);
    }
    stopping = true;
    // Before anything else: Ctrl-C also reached the children, and their exits are no deaths.
    for (const supervisor of supervisors) supervisor.stopRestarting();
    say('stopping…');
    for (const stop of stops.reverse()) await bounded(stop);
    say('stopped');
    process.exit(code);
  };
  // A second Ctrl-C stops at once.
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));
  /** PostgreSQL and the Temporal dev server are restarted when they die; when one cannot be, everything stops. */
  const supervise = <C extends RunningChild>(name: string, output: ChildOutput, start: () => Promise<C>) => {
    const supervisor = new Supervisor<C>({
      name,
      start,
      output,
      say,
      onGiveUp: (reason) => {
        say(reason);
        void stopAll(1);
      },
    });
    supervisors.push(supervisor);
    stops.push({ name, stop: () => supervisor.stop() });
    return supervisor;
  };

  try {
    let databaseUrl = base.DATABASE_URL;
    if (!databaseUrl) {
      const port = Number(env.HOOKFLOW_POSTGRES_PORT ?? 54329);
      if (!(await portIsFree(port)))
        throw new Error(
          `Port ${port} (embedded PostgreSQL) is already in use: set HOOKFLOW_POSTGRES_PORT or DATABASE_URL`,
        );
      say(`starting embedded PostgreSQL on 127.0.0.1:${port}…`);
      const output = new ChildOutput(path.join(dir, 'postgres.log'));
      const cluster = await prepareEmbeddedPostgres({
        dataDir: path.join(dir, 'postgres'),
        port,
        log: say,
        output,
      });
      const pg = await supervise('PostgreSQL', output, () => cluster.start()).start();
      say(`PostgreSQL is up (pid ${pg.pid}; its log: ${output.logFile})`);
      databaseUrl = cluster.url;
    }
    let temporalAddress = base.TEMPORAL_ADDRESS;
    let temporalUi: string | null = null;
    if (!temporalAddress) {
      const binary = resolveBinary(TEMPORAL_CLI, path.join(dir, 'bin'), say);
      say(`starting Temporal dev server (${binary})…`);
      const output = new ChildOutput(path.join(dir, 'temporal.log'));
      const options = {
        binary,
        dbFile: path.join(dir, 'temporal.db'),
        port: Number(env.HOOKFLOW_TEMPORAL_PORT ?? 7233),
        uiPort: Number(env.HOOKFLOW_TEMPORAL_UI_PORT ?? 8233),
        namespace: base.TEMPORAL_NAMESPACE,
        output,
        tries: 1,
      };
      const server = await supervise('Temporal dev server', output, () => startDevServer(options)).start();
      say(`Temporal dev server is up (pid ${server.pid}; its log: ${output.logFile})`);
      temporalAddress = server.address;
      temporalUi = server.uiUrl;
    }
    const config = requireReady({ ...base, DATABASE_URL: databaseUrl, TEMPORAL_ADDRESS: temporalAddress }, [
      'DATABASE_URL',
      'TEMPORAL_ADDRESS',
      'HOOKFLOW_ADMIN_TOKEN',
      'HOOKFLOW_SECRET_KEY',
    ]);
    // The API and the worker share one Temporal connection: deliveries start eagerly.
    const workerConnection = await connectWorkerConnection(config);
    const services: Services = await buildServices(config, createLogger(config.LOG_LEVEL), {
      workerConnection,
    });
    stops.push({ name: 'connections', stop: () => services.close() });
    const applied = await migrate(services.orm);
    if (applied.length) say(`applied migrations: ${applied.join(', ')}`);
    await ensureReconcilerSchedule(services);
    await ensureRetentionSchedule(services);
    const worker: RunningWorker = await startWorker(services, { connection: workerConnection });
    stops.push({ name: 'worker', stop: () => worker.shutdown() });
    const api: RunningApi = await startApi(services);
    stops.push({ name: 'API', stop: () => api.close() });

    say('ready');
    console.log(`
  API            ${api.url}/api/v1        (reference: ${api.url}/docs)
  Admin token    ${config.HOOKFLOW_ADMIN_TOKEN}${generated.includes('admin token') ? '   (generated, kept in .hookflow/admin-token)' : ''}
  Temporal       ${temporalAddress}${temporalUi ? `   Web UI ${temporalUi}` : ''}
  State          ${dir}

  Try:  curl -i ${api.url}/api/v1/health
  Stop: Ctrl-C
`);
  } catch (err) {
    if (stopping) return; // Ctrl-C during the start: stopAll is already at work
    say(`could not start: ${describeError(err)}`);
    await stopAll(1);
  }
}
