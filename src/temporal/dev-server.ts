import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { searchAttributeCliTypes } from '../../workflows/definitions';

export interface DevServer {
  address: string;
  uiUrl: string | null;
  process: ChildProcess;
  stop(): Promise<void>;
}

export interface DevServerOptions {
  binary: string;
  dbFile?: string;
  port: number;
  uiPort?: number | null;
  namespace?: string;
  extraArgs?: string[];
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

/** The server stopped before it listened; the message leads with what it said first (a panic's reason). */
class DevServerExited extends Error {
  constructor(code: number, stderr: string) {
    const lines = stderr.trim().split('\n');
    const first = lines.find((l) => /\S/.test(l)) ?? '';
    super(
      `Temporal dev server exited (${code}): ${first.slice(0, 300)}${lines.length > 1 ? ` … ${stderr.slice(-300)}` : ''}`,
    );
  }
}

async function waitForPort(
  port: number,
  child: ChildProcess,
  timeoutMs: number,
  stderr: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new DevServerExited(child.exitCode, stderr());
    const open = await new Promise<boolean>((resolve) => {
      const sock = net.connect(port, '127.0.0.1');
      sock.once('connect', () => (sock.destroy(), resolve(true)));
      sock.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`Temporal dev server did not open port ${port} within ${timeoutMs / 1000}s`);
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
  // Task-queue fairness (docs/design.md, "Fairness across applications"): tasks waiting on a
  // task queue are handed out in turn across fairness keys (each delivery carries its
  // application's) within each priority, instead of first in, first out. Server 1.32 honours
  // priority keys by default and fairness keys only with this. One write partition: the order
  // holds within a partition, and a single node gains nothing from four (tasks already in the
  // others still drain).
  args.push('--dynamic-config-value', 'matching.enableFairness=true');
  args.push('--dynamic-config-value', 'matching.numTaskqueueWritePartitions=1');
  args.push(...(opts.extraArgs ?? []));

  // The CLI picks random free ports for its internal services when it starts; on a busy
  // machine another process can take one first and the server exits at once. Such an early
  // exit is tried again (same ports of ours), twice at most.
  let child: ChildProcess;
  for (let tries = 1; ; tries++) {
    child = spawn(opts.binary, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: false });
    let err = '';
    child.stderr?.on('data', (d: Buffer) => {
      // The start (where a panic names its reason) and the end.
      err = err.length < 2000 ? err + d.toString() : err.slice(0, 1000) + (err + d.toString()).slice(-1000);
    });
    try {
      await waitForPort(opts.port, child, 60_000, () => err);
      break;
    } catch (e) {
      if (!(e instanceof DevServerExited) || tries >= 3) {
        child.kill('SIGKILL');
        throw e;
      }
    }
  }
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
    stop,
  };
}
