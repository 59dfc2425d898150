import { chmodSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres } from '../../src/postgres/embedded';
import { resolveBinary, TEMPORAL_CLI } from '../../src/temporal/cli-resolver';
import { freePort } from '../../src/temporal/dev-server';
import { temporalServerBuild } from '../../src/temporal/server-build';
import { stateDir } from '../../src/state';

/**
 * One PostgreSQL for the run (each test's cluster makes its own databases in it), the
 * Temporal server built from its Go module (once per machine, cached by version), and the
 * Temporal CLI for namespace set-up.
 */
export default async function globalSetup(): Promise<void> {
  const log = (m: string) => process.stderr.write(`[cluster setup] ${m}\n`);
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'hookflow-cluster-'));
  chmodSync(tmp, 0o755);
  const build = temporalServerBuild(log);
  const cli = resolveBinary(TEMPORAL_CLI, path.join(stateDir(), 'bin'), log);
  const port = await freePort();
  const pg = await startEmbeddedPostgres({ dataDir: path.join(tmp, 'postgres'), port, log });
  Object.assign(process.env, {
    HOOKFLOW_CLUSTER_TMP: tmp,
    HOOKFLOW_CLUSTER_PG_PORT: String(port),
    HOOKFLOW_CLUSTER_CLI: cli,
    HOOKFLOW_CLUSTER_BUILD: JSON.stringify(build),
  });
  (globalThis as { __clusterStop?: () => Promise<void> }).__clusterStop = () => pg.stop();
}
