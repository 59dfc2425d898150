import { mkdtempSync, writeFileSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres } from '../../src/postgres/embedded';
import { resolveBinary, TEMPORAL_CLI } from '../../src/temporal/cli-resolver';
import { freePort, startDevServer } from '../../src/temporal/dev-server';
import { openOrm, migrate } from '../../src/db/orm';
import { bundleWorkflows } from '../../src/worker';
import { stateDir } from '../../src/state';

/**
 * One real PostgreSQL and one real Temporal dev server for the whole run, started the
 * same way as `npm start` (or reused through DATABASE_URL / TEMPORAL_ADDRESS), migrated,
 * and one workflow bundle that every test worker loads.
 */
export default async function globalSetup(): Promise<void> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'hookflow-test-'));
  chmodSync(tmp, 0o755);
  const stops: Array<() => Promise<void>> = [];
  const log = (m: string) => process.stderr.write(`[test setup] ${m}\n`);

  if (!process.env.DATABASE_URL) {
    const pg = await startEmbeddedPostgres({
      dataDir: path.join(tmp, 'postgres'),
      port: await freePort(),
      log,
    });
    stops.push(() => pg.stop());
    process.env.DATABASE_URL = pg.url;
  }
  const binary = resolveBinary(TEMPORAL_CLI, path.join(stateDir(), 'bin'), log);
  process.env.HOOKFLOW_TEST_TEMPORAL_CLI = binary;
  if (!process.env.TEMPORAL_ADDRESS) {
    const server = await startDevServer({ binary, port: await freePort(), uiPort: null });
    stops.push(() => server.stop());
    process.env.TEMPORAL_ADDRESS = server.address;
  }
  const orm = await openOrm(process.env.DATABASE_URL);
  await migrate(orm);
  await orm.close();

  const bundle = await bundleWorkflows();
  const bundlePath = path.join(tmp, 'workflow-bundle.js');
  writeFileSync(bundlePath, bundle.code);
  process.env.HOOKFLOW_TEST_BUNDLE = bundlePath;
  process.env.HOOKFLOW_TEST_TMP = tmp;
  (globalThis as { __hookflowStops?: Array<() => Promise<void>> }).__hookflowStops = stops;
}
