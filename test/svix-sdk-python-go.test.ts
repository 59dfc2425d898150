import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startStack, type Stack } from './harness/stack';

const sdk = path.join(__dirname, 'sdk');
const python = path.join(__dirname, '..', '.hookflow', 'sdk', 'python', 'bin', 'python');
const INSTALL = 'run test/prerequisites.sh (npm test runs it first) to install the Svix SDKs';

/** Runs a program to its end; its output is kept for the assertion message. */
function run(
  cmd: string,
  args: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv },
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

const STEPS = [
  'applications',
  'event types',
  'endpoints and headers',
  'messages, verify, attempts, resend',
  'secret rotation',
  'portal access and logout',
  'raw payloads',
  'expunge',
  'list orders and send example',
  'background tasks',
  'expire-all',
].join(',');

/**
 * The official Svix SDKs for Python (2.x) and Go, unchanged, against Hookflow: each
 * program (test/sdk/python, test/sdk/go) manages applications, event types, endpoints
 * with headers and secret rotation, sends messages to a receiver of its own on loopback,
 * checks them with the SDK's Webhook verifier, lists attempts, resends, and uses a portal
 * token until it logs out; then what issue 23 found: raw payloads (read back byte for byte
 * and verified), both expunge calls, list orders, send-example, background tasks after a
 * recover, a replay-missing and an endpoint deletion, and expire-all. Each asserts as it
 * goes and ends with `ok <steps>`.
 */
describe('svix Python and Go SDK round trips', () => {
  let stack: Stack;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    stack = await startStack();
    env = { ...process.env, HOOKFLOW_URL: stack.url, HOOKFLOW_TOKEN: stack.adminToken };
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('the Python SDK 2.x', async () => {
    if (!existsSync(python)) throw new Error(`No Python SDK venv at ${python}: ${INSTALL}`);
    const res = await run(python, [path.join(sdk, 'python', 'roundtrip.py')], { cwd: sdk, env });
    expect({ code: res.code, out: res.out }).toEqual({
      code: 0,
      out: expect.stringContaining(`ok ${STEPS}`),
    });
  });

  it('the Go SDK', async () => {
    // Built from the committed go.mod/go.sum with the module cache only: no network here.
    const bin = mkdtempSync(path.join(tmpdir(), 'hookflow-go-sdk-'));
    try {
      const goEnv = {
        ...process.env,
        GOFLAGS: `${process.env.GOFLAGS ?? ''} -mod=readonly -buildvcs=false`,
        GOPROXY: 'off',
      };
      const build = await run('go', ['build', '-o', path.join(bin, 'roundtrip'), '.'], {
        cwd: path.join(sdk, 'go'),
        env: goEnv,
      });
      if (build.code !== 0) throw new Error(`go build failed (${INSTALL}):\n${build.out}`);
      const res = await run(path.join(bin, 'roundtrip'), [], { cwd: sdk, env });
      expect({ code: res.code, out: res.out }).toEqual({
        code: 0,
        out: expect.stringContaining(`ok ${STEPS}`),
      });
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });
});
