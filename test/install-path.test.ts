import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startStack, type Stack } from './harness/stack';
import { stackEnv } from './harness/processes';
import { eventually } from './harness/wait';
import { freePort } from '../src/temporal/dev-server';

const root = path.join(__dirname, '..');

/**
 * The build installed under a folder whose name starts with a dot, as `~/.cache/…`,
 * `~/.local/…` and the npx cache are: `hookflow api` from there serves the portal (its
 * SPA routes too), its assets, /docs and the OpenAPI document. Express's `sendFile`
 * refuses an absolute path with a dot segment, so this failed while the portal's fallback
 * used one.
 */
describe('an install under a dot folder', () => {
  let stack: Stack; // for its database and Temporal server
  let dir: string;
  let child: ChildProcess | null = null;
  let output = '';
  let url = '';

  beforeAll(async () => {
    stack = await startStack({}, { worker: false });
    dir = mkdtempSync(path.join(tmpdir(), 'hookflow-install-'));
    const install = path.join(dir, '.cache', 'hookflow');
    // A real copy of what runs (not a symlink, which node would resolve to the real path).
    for (const part of ['dist', 'portal/dist', 'package.json'])
      cpSync(path.join(root, part), path.join(install, part), { recursive: true });
    symlinkSync(path.join(root, 'node_modules'), path.join(install, 'node_modules'), 'dir');

    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    child = spawn(process.execPath, [path.join(install, 'dist', 'src', 'cli', 'index.js'), 'api'], {
      cwd: install,
      env: { ...stackEnv(stack.config), PORT: String(port), HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d) => (output = (output + d).slice(-5000)));
    child.stderr!.on('data', (d) => (output = (output + d).slice(-5000)));
    await eventually(
      async () => child!.exitCode === null && (await fetch(`${url}/api/v1/health`).catch(() => null))?.ok,
      `hookflow api from ${install} (output: ${output})`,
      { timeoutMs: 90_000, intervalMs: 250 },
    );
  });
  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    await stack?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('serves the portal, its client-side routes and its assets', async () => {
    for (const route of ['/portal/', '/portal/endpoints', '/portal/endpoints/ep_123/attempts']) {
      const res = await fetch(`${url}${route}`);
      expect({ route, status: res.status }).toEqual({ route, status: 200 });
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await res.text()).toMatch(/<div id="root"|<script type="module"/);
    }
    const assets = readdirSync(path.join(root, 'portal', 'dist', 'assets'));
    expect(assets.length).toBeGreaterThan(0);
    for (const asset of assets) expect((await fetch(`${url}/portal/assets/${asset}`)).status).toBe(200);
  });

  it('serves the reference page and the OpenAPI document with the package version', async () => {
    expect((await fetch(`${url}/docs`)).status).toBe(200);
    const doc = (await (await fetch(`${url}/api/v1/openapi.json`)).json()) as { info: { version: string } };
    expect(doc.info.version).not.toBe('0.0.0');
  });
});
