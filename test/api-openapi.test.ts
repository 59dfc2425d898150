import { readFileSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { request } from 'node:http';
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

/** fetch refuses TRACE: a plain node:http request sends any method. */
function raw(method: string, url: string): Promise<{ status: number; allow?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method }, (res) => {
      let body = '';
      res
        .on('data', (c) => (body += c))
        .on('end', () => resolve({ status: res.statusCode!, allow: res.headers.allow, body }));
    });
    req.on('error', reject).end();
  });
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

  it('lists the errors every route can answer, with their bodies', () => {
    for (const [p, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const route = `${method} ${p}`;
        const statuses = Object.keys(op.responses);
        if (op.security?.length === 0) continue; // health: no auth, no input
        for (const s of ['401', '429', '503'])
          expect({ route, has: statuses.includes(s) }).toEqual({ route, has: true });
        if (op.parameters?.length || op.requestBody)
          expect({ route, has422: statuses.includes('422') }).toEqual({ route, has422: true });
        if (p.includes('{'))
          expect({ route, has404: statuses.includes('404') }).toEqual({ route, has404: true });
        if (op.requestBody)
          expect({ route, body: ['400', '413'].every((s) => statuses.includes(s)) }).toEqual({
            route,
            body: true,
          });
      }
    }
    const patch = doc.paths['/api/v1/app/{app}'].patch;
    expect(patch.responses['403'].content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/HttpErrorOut',
    });
    expect(patch.responses['422'].content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/HTTPValidationError',
    });
  });

  it('states the checks the server makes as schema constraints', () => {
    const params = (p: string, m: string) =>
      Object.fromEntries(
        doc.paths[p][m].parameters.map((x: { name: string; schema: unknown }) => [x.name, x.schema]),
      );
    const byMsg = params('/api/v1/app/{app}/attempt/msg/{msg}', 'get');
    expect(byMsg.status).toMatchObject({ type: 'integer', enum: [0, 1, 2, 3] });
    expect(byMsg.status_code_class).toMatchObject({ type: 'integer', enum: [0, 100, 200, 300, 400, 500] });
    expect(byMsg.limit).toMatchObject({ type: 'integer', minimum: 1, maximum: 250 });
    expect(byMsg.before.pattern).toMatch(/^\^/);
    const create = (doc as any).paths['/api/v1/app/{app}/endpoint'].post.requestBody.content[
      'application/json'
    ].schema;
    const url = create.properties.url;
    expect(new RegExp(url.pattern).test('https://api.example.com/hook')).toBe(true);
    expect(new RegExp(url.pattern).test('ftp://example.com/')).toBe(false);
    expect(create.properties.headers.propertyNames.pattern).toBeTruthy();
    expect(create.properties.headers.maxProperties).toBe(50);
    expect(
      new RegExp(create.properties.secret.pattern ?? create.properties.secret.anyOf?.[0]?.pattern).test(
        'not a secret',
      ),
    ).toBe(false);
    expect(create.properties.description.allOf).toEqual([{ pattern: '^[^\\u0000]*$' }]);
    const portal = (doc as any).components.schemas.AppPortalAccessIn.properties;
    expect(portal.application).toEqual({
      anyOf: [{ $ref: '#/components/schemas/ApplicationIn' }, { type: 'null' }],
    });
    expect(portal.readOnly.enum).toEqual([false, null]);
  });

  it('answers an unknown method with 405 and Allow on every known path, before authentication', async () => {
    const cases: Array<[string, string, string]> = [
      ['TRACE', '/api/v1/health', 'GET, HEAD, OPTIONS'],
      ['TRACE', '/api/v1/health/details', 'GET, HEAD, OPTIONS'],
      ['DELETE', '/api/v1/app', 'GET, POST, HEAD, OPTIONS'],
      ['TRACE', '/api/v1/app/app_x', 'GET, PUT, PATCH, DELETE, HEAD, OPTIONS'],
      ['POST', '/api/v1/openapi.json', 'GET, HEAD, OPTIONS'],
      ['PUT', '/portal/endpoints', 'GET, HEAD, OPTIONS'],
    ];
    for (const [method, url, allow] of cases) {
      const res = await raw(method, `${stack.url}${url}`);
      expect({ method, url, status: res.status, allow: res.allow }).toEqual({
        method,
        url,
        status: 405,
        allow,
      });
      expect(JSON.parse(res.body).code).toBe('method_not_allowed');
    }
    const options = await raw('OPTIONS', `${stack.url}/api/v1/app/app_x/endpoint`);
    expect({ status: options.status, allow: options.allow }).toEqual({
      status: 204,
      allow: 'GET, POST, HEAD, OPTIONS',
    });
    // A path nobody serves stays a 404, whatever the method.
    expect((await raw('TRACE', `${stack.url}/nothing-here`)).status).toBe(404);
  });

  it('refuses a missing required body with a 422 that says so', async () => {
    const app = await stack.call('POST', '/api/v1/app', { name: 'body test' });
    for (const [method, url] of [
      ['PATCH', `/api/v1/app/${app.body.id}`],
      ['PUT', `/api/v1/app/${app.body.id}`],
      ['POST', '/api/v1/event-type'],
      ['POST', `/api/v1/auth/app-portal-access/${app.body.id}`],
    ]) {
      const res = await stack.call(method, url);
      expect({ method, url, status: res.status, detail: res.body.detail }).toEqual({
        method,
        url,
        status: 422,
        detail: [{ loc: ['body'], msg: expect.stringMatching(/JSON body is required/), type: 'missing' }],
      });
    }
    // Not JSON (express.json leaves it unread): the same answer, not an empty object.
    const text = await stack.call('PATCH', `/api/v1/app/${app.body.id}`, '{}', undefined, {
      'content-type': 'text/plain',
    });
    expect(text.status).toBe(422);
    expect((await stack.call('PATCH', `/api/v1/app/${app.body.id}`, {})).status).toBe(200);
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
