import type { Router } from 'express';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { SecretBox } from '../../../src/domain/crypto';
import { MAX_HEADERS, patchHeaders, splitHeaders } from '../../../src/domain/headers';
import { invalid } from '../../http-errors';
import type { ApiDeps } from '../../context';
import { lookup, noContent, ok } from '../../resource';
import { defineRoute } from '../../route';
import { endpointParams, headersIn, headersOut, headersPatchIn } from './schemas';

interface StoredHeaders {
  headers: Record<string, string>;
  sensitive_headers_enc: string | null;
}

function allHeaders(row: StoredHeaders, box: SecretBox): Record<string, string> {
  const sensitive = row.sensitive_headers_enc
    ? (JSON.parse(box.open(row.sensitive_headers_enc)) as Record<string, string>)
    : {};
  return { ...(row.headers ?? {}), ...sensitive };
}

/** Replaces the stored headers with `next`, under a row lock so concurrent PATCHes merge. */
async function rewrite(
  em: EntityManager,
  box: SecretBox,
  endpointId: string,
  next: (current: Record<string, string>) => Record<string, string>,
): Promise<void> {
  await em.transactional(async (tx) => {
    const conn = tx.getConnection();
    const ctx = tx.getTransactionContext();
    const rows: StoredHeaders[] = await conn.execute(
      'select headers, sensitive_headers_enc from endpoints where id = ? for update',
      [endpointId],
      'all',
      ctx,
    );
    if (!rows[0]) return;
    const merged = next(allHeaders(rows[0], box));
    if (Object.keys(merged).length > MAX_HEADERS)
      throw invalid(['body', 'headers'], `an endpoint has at most ${MAX_HEADERS} headers`);
    const { plain, sensitive } = splitHeaders(merged);
    await conn.execute(
      'update endpoints set headers = ?::jsonb, sensitive_headers_enc = ?, updated_at = now() where id = ?',
      [
        JSON.stringify(plain),
        Object.keys(sensitive).length ? box.seal(JSON.stringify(sensitive)) : null,
        endpointId,
      ],
      'run',
      ctx,
    );
  });
}

/**
 * Custom headers. Sensitive ones (see src/domain/headers.ts) are sealed at rest and shown
 * by name only, in `sensitive`, as Svix's EndpointHeadersOut does.
 */
export function headerRoutes(router: Router, { orm, box }: ApiDeps): void {
  defineRoute(
    router,
    {
      method: 'get',
      path: '/app/:app/endpoint/:endpoint/headers',
      operationId: 'v1.endpoint.get-headers',
      summary: "Get the endpoint's custom headers; sensitive values are redacted",
      tag: 'Endpoint',
      params: endpointParams,
      responses: {
        200: { description: 'The headers', schema: headersOut },
        404: { description: 'Not found' },
      },
    },
    async ({ req, params }) => {
      const { endpoint: ep } = await lookup(orm, req, params);
      const sensitive = ep.sensitiveHeadersEnc
        ? Object.keys(JSON.parse(box.open(ep.sensitiveHeadersEnc)))
        : [];
      return ok({ headers: ep.headers ?? {}, sensitive });
    },
  );

  defineRoute(
    router,
    {
      method: 'put',
      path: '/app/:app/endpoint/:endpoint/headers',
      operationId: 'v1.endpoint.update-headers',
      summary: "Replace the endpoint's custom headers",
      tag: 'Endpoint',
      params: endpointParams,
      body: headersIn,
      responses: { 204: { description: 'Replaced' }, 404: { description: 'Not found' } },
    },
    async ({ req, params, body }) => {
      const { em, endpoint } = await lookup(orm, req, params);
      await rewrite(em, box, endpoint.id, () => patchHeaders({}, body.headers));
      return noContent();
    },
  );

  defineRoute(
    router,
    {
      method: 'patch',
      path: '/app/:app/endpoint/:endpoint/headers',
      operationId: 'v1.endpoint.patch-headers',
      summary:
        "Merge into the endpoint's custom headers; a null value or a name in deleteHeaders removes a header",
      tag: 'Endpoint',
      params: endpointParams,
      body: headersPatchIn,
      responses: { 204: { description: 'Merged' }, 404: { description: 'Not found' } },
    },
    async ({ req, params, body }) => {
      const { em, endpoint } = await lookup(orm, req, params);
      const removed = Object.fromEntries((body.deleteHeaders ?? []).map((name) => [name, null]));
      await rewrite(em, box, endpoint.id, (current) =>
        patchHeaders(current, { ...removed, ...body.headers }),
      );
      return noContent();
    },
  );
}
