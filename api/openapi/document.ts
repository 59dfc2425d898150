import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Router } from 'express';
import { z } from 'zod';
import { OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import type { ApiDeps } from '../context';
import { registry } from './registry';
import { storableRequests } from './storable';
import { renderReference, REFERENCE_CSS } from './reference-page';

/** The version in package.json, found upwards from here (the source tree and the build differ in depth). */
function productVersion(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'hookflow' && pkg.version) return pkg.version;
    }
    if (path.dirname(dir) === dir) return '0.0.0';
  }
}

// Health is served outside defineRoute (no auth, no JSON body); described here by hand.
registry.registerPath({
  method: 'get',
  path: '/api/v1/health',
  operationId: 'v1.health.get',
  summary: '204 while the API can accept messages (PostgreSQL answers), 503 otherwise',
  tags: ['Health'],
  security: [],
  responses: { 204: { description: 'Healthy' }, 503: { description: 'PostgreSQL does not answer' } },
});
registry.registerPath({
  method: 'get',
  path: '/api/v1/health/details',
  operationId: 'v1.health.details',
  summary: 'How PostgreSQL, Temporal and the workers are doing',
  tags: ['Health'],
  security: [],
  responses: {
    200: {
      description: 'PostgreSQL is up',
      content: { 'application/json': { schema: z.record(z.string(), z.unknown()) } },
    },
    503: { description: 'PostgreSQL is down' },
  },
});

let cached: { size: number; doc: ReturnType<OpenApiGeneratorV31['generateDocument']> } | null = null;

/**
 * The OpenAPI 3.1 document of every route registered through `defineRoute`. Made on first
 * use (after the routers have registered) and again only if more routes appeared.
 */
export function openApiDocument() {
  const size = registry.definitions.length;
  if (cached?.size === size) return cached.doc;
  const doc = new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Hookflow',
      version: productVersion(),
      description:
        'Self-hosted webhook sending, compatible with the Svix API. Authenticate with `Authorization: Bearer <token>`.',
    },
    // Relative: the document is right wherever the API is served from.
    servers: [{ url: '/' }],
  });
  const out = storableRequests(
    nonNullComponents(nullableRefs(doc)) as unknown as Parameters<typeof storableRequests>[0],
  );
  cached = { size, doc: out as unknown as typeof doc };
  return cached.doc;
}

/**
 * A component used both as is and as `.nullish()` can come out with `type: [object, null]`
 * (whichever use registered it first), making null a valid body where it is not. Nullable
 * uses are `anyOf: [$ref, null]` (nullableRefs), so a component itself is never null.
 */
function nonNullComponents<T extends { components?: { schemas?: Record<string, unknown> } }>(doc: T): T {
  const schemas = Object.fromEntries(
    Object.entries(doc.components?.schemas ?? {}).map(([name, s]) => {
      const type = (s as { type?: unknown }).type;
      if (!Array.isArray(type) || !type.includes('null')) return [name, s];
      const rest = type.filter((t) => t !== 'null');
      return [name, { ...(s as object), type: rest.length === 1 ? rest[0] : rest }];
    }),
  );
  return { ...doc, components: { ...doc.components, schemas } };
}

/**
 * zod-to-openapi writes a nullable registered schema as `allOf: [$ref, {type: [object,
 * null]}]`, which no null satisfies; the document says what the server takes: either.
 */
function nullableRefs<T>(node: T): T {
  if (Array.isArray(node)) return node.map(nullableRefs) as T;
  if (!node || typeof node !== 'object') return node;
  const obj = node as Record<string, unknown>;
  const all = obj.allOf as Array<Record<string, unknown>> | undefined;
  if (Object.keys(obj).length === 1 && all?.length === 2 && all[0].$ref && Array.isArray(all[1].type)) {
    if (Object.keys(all[1]).length === 1 && (all[1].type as string[]).includes('null'))
      return { anyOf: [{ $ref: all[0].$ref }, { type: 'null' }] } as T;
  }
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, nullableRefs(v)])) as T;
}

const styleHash = createHash('sha256').update(REFERENCE_CSS).digest('base64');
const docsHeaders = {
  // The page is static HTML with one inline stylesheet (allowed by its hash): no scripts at all.
  'content-security-policy': `default-src 'none'; style-src 'sha256-${styleHash}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

/** Serves /api/v1/openapi.json and the rendered reference at /docs (no auth: they hold no data). */
export function docsRouter(_deps: ApiDeps): Router {
  const router = Router();
  router.get('/api/v1/openapi.json', (_req, res) => {
    res.set('cache-control', 'no-cache').json(openApiDocument());
  });
  let page: { size: number; html: string } | null = null;
  router.get(['/docs', '/docs/'], (_req, res) => {
    const size = registry.definitions.length;
    if (page?.size !== size) page = { size, html: renderReference(openApiDocument() as never) };
    res.set(docsHeaders).type('html').send(page.html);
  });
  return router;
}
