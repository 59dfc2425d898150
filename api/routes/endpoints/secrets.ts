import type { Request, Router } from 'express';
import type { PreviousSecret } from '../../../src/db/entities';
import { generateSecret } from '../../../src/domain/signing';
import type { ApiDeps } from '../../context';
import { lookup, ok } from '../../resource';
import { defineRoute } from '../../route';
import { endpointParams, secretOut, secretRotateIn } from './schemas';

export const DEFAULT_GRACE_SECONDS = 24 * 3600;
/** Older secrets kept signing at once, at most; a burst of rotations drops the oldest. */
const MAX_PREVIOUS = 10;

/** The signing secret: read it, rotate it with a grace period for the old one. */
export function secretRoutes(router: Router, { orm, box }: ApiDeps): void {
  const currentSecret = async (req: Request, params: { app: string; endpoint: string }) =>
    ok({ key: box.open((await lookup(orm, req, params)).endpoint.secretEnc) });

  defineRoute(
    router,
    {
      method: 'get',
      path: '/app/:app/endpoint/:endpoint/secret',
      operationId: 'v1.endpoint.get-secret',
      summary: "Get the endpoint's signing secret",
      tag: 'Endpoint',
      params: endpointParams,
      responses: { 200: { description: 'The secret', schema: secretOut }, 404: { description: 'Not found' } },
    },
    async ({ req, params }) => currentSecret(req, params),
  );

  defineRoute(
    router,
    {
      method: 'post',
      path: '/app/:app/endpoint/:endpoint/secret/rotate',
      operationId: 'v1.endpoint.rotate-secret',
      summary:
        'Rotate the signing secret; the old one keeps signing for gracePeriodSeconds (default 24 h, at most 7 days)',
      tag: 'Endpoint',
      params: endpointParams,
      body: secretRotateIn,
      idempotent: true,
      // The new secret in the body: Svix's current SDKs (Python 2.x) parse an EndpointSecretOut here.
      responses: { 200: { description: 'Rotated: the new secret', schema: secretOut } },
      // A replayed rotation answers the secret as it is now; the record never holds a secret.
      replaySecret: ({ req, params }) => currentSecret(req, params),
    },
    async ({ req, params, body }) => {
      const { em, endpoint: ep } = await lookup(orm, req, params);
      const grace = body.gracePeriodSeconds ?? DEFAULT_GRACE_SECONDS;
      const next = body.key ?? generateSecret();
      // Locked read-modify-write: two rotations at once must not lose a secret still signing.
      await em.transactional(async (tx) => {
        const conn = tx.getConnection();
        const ctx = tx.getTransactionContext();
        const rows: Array<{ secret_enc: string; previous_secrets: PreviousSecret[] }> = await conn.execute(
          'select secret_enc, previous_secrets from endpoints where id = ? for update',
          [ep.id],
          'all',
          ctx,
        );
        if (!rows[0]) return;
        const now = Date.now();
        const kept = (rows[0].previous_secrets ?? []).filter((p) => Date.parse(p.expiresAt) > now);
        if (grace > 0)
          kept.unshift({
            secretEnc: rows[0].secret_enc,
            expiresAt: new Date(now + grace * 1000).toISOString(),
          });
        await conn.execute(
          'update endpoints set secret_enc = ?, previous_secrets = ?::jsonb, updated_at = now() where id = ?',
          [box.seal(next), JSON.stringify(kept.slice(0, MAX_PREVIOUS)), ep.id],
          'run',
          ctx,
        );
      });
      return ok({ key: next });
    },
  );
}
