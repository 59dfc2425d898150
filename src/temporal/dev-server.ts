import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { Connection } from '@temporalio/client';
import { describeError } from '../errors';
import { searchAttributeCliTypes } from '../../workflows/definitions';
import { ChildOutput } from '../supervision/child-output';
import { ChildExited, exitOf, type ChildExit } from '../supervision/child-exit';

export interface DevServer {
  address: string;
  uiUrl: string | null;
  process: ChildProcess;
  pid: number | undefined;
  exited: Promise<ChildExit>;
  stop(): Promise<void>;
}

export interface DevServerOptions {
  binary: string;
  dbFile?: string;
  port: number;
  uiPort?: number | null;
  namespace?: string;
  extraArgs?: string[];
  /** Where the server's output goes; by default only its last lines are kept, for errors. */
  output?: ChildOutput;
  /** Spawns before an early exit is final (see below); 1 under a supervisor, which tries again itself. */
  tries?: number;
}

export async function portIsFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function throwIfExited(child: ChildProcess, output: ChildOutput): void {
  if (child.exitCode === null && child.signalCode === null) return;
  const exit = { code: child.exitCode, signal: child.signalCode };
  throw new ChildExited('Temporal dev server', exit, output.lastWords());
}

/** Whether something accepts connections on the loopback port. */
export function portOpen(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    sock.once('connect', () => (sock.destroy(), resolve(true)));
    sock.once('error', () => resolve(false));
  });
}

/** Resolves once the server listens; rejects with ChildExited, its last words, if it stops first. */
async function waitForPort(
  port: number,
  child: ChildProcess,
  timeoutMs: number,
  output: ChildOutput,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    throwIfExited(child, output);
    if (await portOpen(port)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`Temporal dev server did not open port ${port} within ${timeoutMs / 1000}s`);
}

/**
 * The port opens before the frontend serves: a client connecting in between is refused with
 * "Frontend is not healthy yet" (seen on a restart over an existing database). Ready means
 * the frontend answers GetSystemInfo, as every client's connect asks.
 */
async function waitForFrontend(
  address: string,
  child: ChildProcess,
  output: ChildOutput,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const connection = await Connection.connect({ address, connectTimeout: '2s' });
      await connection.close();
      return;
    } catch (err) {
      throwIfExited(child, output);
      if (Date.now() > deadline)
        throw new Error(
          `Temporal dev server did not serve within ${timeoutMs / 1000}s: ${describeError(err)}`,
        );
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** `temporal server start-dev` with a file database and Hookflow's search attributes registered. */
export async function startDevServer(opts: DevServerOptions): Promise<DevServer> {
  if (!(await portIsFree(opts.port))) throw new Error(`Port ${opts.port} (Temporal) is already in use`);
  if (opts.uiPort && !(await portIsFree(opts.uiPort)))
    throw new Error(`Port ${opts.uiPort} (Temporal Web UI) is already in use`);
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(opts.port),
    '--log-level',
    'error',
  ];
  if (opts.dbFile) args.push('--db-filename', opts.dbFile);
  if (opts.uiPort) args.push('--ui-port', String(opts.uiPort), '--ui-disable-news-fetch');
  else args.push('--headless');
  if (opts.namespace && opts.namespace !== 'default') args.push('--namespace', opts.namespace);
  for (const [name, type] of Object.entries(searchAttributeCliTypes))
    args.push('--search-attribute', `${name}=${type}`);
  // Faster visibility for tests and small installs; WAL keeps SQLite writes cheap.
  args.push('--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=normal');
  // An activity scheduled by a workflow task goes straight back to the worker that completed
  // it (as on Temporal Cloud), instead of through matching: fewer writes per delivery.
  args.push('--dynamic-config-value', 'system.enableActivityEagerExecution=true');
  args.push(...(opts.extraArgs ?? []));

  // The CLI picks random free ports for its internal services when it starts; on a busy
  // machine another process can take one first and the server exits at once. Such an early
  // exit is tried again (same ports of ours), twice at most.
  const output = opts.output ?? new ChildOutput();
  let child: ChildProcess;
  for (let tries = 1; ; tries++) {
    child = spawn(opts.binary, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: false });
    child.stdout!.on('data', (d: Buffer) => output.write(d));
    child.stderr!.on('data', (d: Buffer) => output.write(d));
    try {
      await waitForPort(opts.port, child, 60_000, output);
      await waitForFrontend(`127.0.0.1:${opts.port}`, child, output, 60_000);
      break;
    } catch (e) {
      if (!(e instanceof ChildExited) || tries >= (opts.tries ?? 3)) {
        child.kill('SIGKILL');
        throw e;
      }
    }
  }
  const exited = exitOf(child);
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode) return resolve();
      const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', () => (clearTimeout(kill), resolve()));
      child.kill('SIGTERM');
    });
  return {
    address: `127.0.0.1:${opts.port}`,
    uiUrl: opts.uiPort ? `http://localhost:${opts.uiPort}` : null,
    process: child,
    pid: child.pid,
    exited,
    stop,
  };
}
