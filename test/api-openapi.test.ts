import { readFileSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { startStack, type Stack } from './harness/stack';
import { createApp } from '../api/app';

type Doc = {
  openapi: string;
  info: { title: string; version: string };
  servers: Array<{ url: string }>;
  paths: Record<string, Record<string, any>>;
};
const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

/** Every route the API serves through defineRoute, as `METHOD /api/v1/...` with `{param}`s. */
function servedRoutes(stack: Stack): string[] {
  const app = createApp({ ...stack.services, config: stack.config } as never) as unknown as {
    router: { stack: any[] };
  };
  const out: string[] = [];
  const walk = (layers: any[], depth: number) => {
    for (const layer of layers) {
      // Depth 2: routes of the routers inside the authenticated /api/v1 router.
      if (layer.route && depth >= 2)
        for (const m of Object.keys(layer.route.methods).filter((m) => METHODS.includes(m)))
          out.push(`${m} /api/v1${String(layer.route.path).replace(/:([A-Za-z_]+)/g, '{$1}')}`);
      else if (layer.handle?.stack) walk(layer.handle.stack, depth + 1);
    }
  };
  walk(app.router.stack, 0);
  return out;
}

describe('OpenAPI document and reference page', () => {
  let stack: Stack;
  let doc: Doc;
  beforeAll(async () => {
    stack = await startStack({}, { worker: false });
    const res = await stack.call('GET', '/api/v1/openapi.json', undefined, null);
    expect(res.status).toBe(200);
    doc = res.body;
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('names the product, its version and a relative server', () => {
    const pkg = JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8'));
    expect(doc.info.title).toBe('Hookflow');
    expect(doc.info.version).toBe(pkg.version);
    expect(doc.openapi).toMatch(/^3\.1\./);
    expect(doc.servers).toEqual([{ url: '/' }]);
  });

  it('is a valid OpenAPI document', () => {
    // swagger-parser loads ESM dependencies that jest's module runtime cannot require, so
    // it runs in a plain node child (Node >= 20.19 requires ESM natively).
    const script = `
      let text = ''; process.stdin.on('data', (c) => (text += c)).on('end', () =>
        require('@apidevtools/swagger-parser').validate(JSON.parse(text))
          .then(() => console.log('valid'), (e) => { console.log(e.message); process.exitCode = 1; }));`;
    const run = spawnSync(process.execPath, ['-e', script], {
      input: JSON.stringify(doc),
      cwd: path.join(__dirname, '..'),
      encoding: 'utf8',
    });
    expect(run.stdout.trim()).toBe('valid');
    // And it does fail on a broken document, so the check above means something.
    const broken = spawnSync(process.execPath, ['-e', script], {
      input: JSON.stringify({ ...doc, paths: { '/x': { get: { responses: { 200: { $ref: '#/nope' } } } } } }),
      cwd: path.join(__dirname, '..'),
      encoding: 'utf8',
    });
    expect(broken.status).not.toBe(0);
  });

  it('describes every route served through defineRoute', () => {
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`)),
    );
    const served = servedRoutes(stack);
    expect(served.length).toBeGreaterThan(15);
    expect(served.filter((r) => !documented.has(r))).toEqual([]);
    for (const r of [
      'get /api/v1/app',
      'post /api/v1/app',
      'delete /api/v1/event-type/{event_type_name}',
      'post /api/v1/auth/app-portal-access/{app}',
    ])
      expect(documented).toContain(r);
  });

  it('has no path the server does not answer', async () => {
    for (const [p, ops] of Object.entries(doc.paths)) {
      const url = p.replace(/\{[^}]+\}/g, 'app_doesnotexist');
      for (const method of Object.keys(ops)) {
        // Empty bodies and unknown ids: answered by the route (422, 404 for the entity, 204...),
        // never by the fallback that says the route itself does not exist.
        const res = await stack.call(
          method.toUpperCase(),
          url,
          method === 'get' || method === 'delete' ? undefined : {},
        );
        expect({
          route: `${method} ${p}`,
          detail: res.status === 404 ? res.body?.detail : 'answered',
        }).not.toEqual({
          route: `${method} ${p}`,
          detail: 'Route not found',
        });
      }
    }
  });

  it('marks create routes as taking an idempotency-key, and documents request and response schemas', () => {
    const create = doc.paths['/api/v1/app'].post;
    expect(create.parameters.map((p: { name: string }) => p.name)).toEqual(
      expect.arrayContaining(['get_if_exists', 'idempotency-key']),
    );
    expect(create.requestBody.content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/ApplicationIn',
    });
    expect(create.responses['201'].content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/ApplicationOut',
    });
    expect(doc.paths['/api/v1/event-type'].post.parameters.map((p: { name: string }) => p.name)).toContain(
      'idempotency-key',
    );
    expect(doc.paths['/api/v1/app/{app}/msg'].post.parameters.map((p: { name: string }) => p.name)).toContain(
      'idempotency-key',
    );
  });

  it('renders /docs from the document, without scripts, with security headers', async () => {
    const res = await fetch(`${stack.url}/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    const html = await res.text();
    expect(html).not.toMatch(/<script|https?:\/\/(?!127\.0\.0\.1)/i);
    for (const [p, ops] of Object.entries(doc.paths)) {
      expect(html).toContain(`<code>${p}</code>`);
      for (const op of Object.values(ops)) expect(html).toContain(op.operationId);
    }
    expect(html).toContain('id="schema-ApplicationOut"');
    expect(html).toContain('id="tag-Application"');
  });
});
