import { Router, type Request } from 'express';
import { z } from 'zod';
import type { ApiDeps } from '../context';
import { forbidden } from '../http-errors';
import { principalOf } from '../middleware/auth';
import { expireAppTokens, revokeToken } from '../../src/domain/token-revocation';
import { findApp } from '../resolve';
import { appPath, noContent, ok } from '../resource';
import { defineRoute } from '../route';
import { appIn } from './applications-schema';
import { findOrCreateApp } from './applications';

const TAG = 'Authentication';
const WEEK = 7 * 24 * 3600;

/** A portal session's id: tokens carry it, so that expire-all can name the session. */
const sessionId = z.string().min(1).max(256);

/**
 * Svix's AppPortalAccessIn. Hookflow's app tokens carry the application and the
 * `sessionId` (for expire-all), so `featureFlags` and `capabilities` are accepted
 * (type-checked) and ignored: every token gets every capability. `readOnly: true` is refused rather than ignored, so
 * nobody hands out a "read-only" link that can in fact write.
 */
const portalAccessIn = z
  .object({
    // A union, not .nullish(): the document then says `ApplicationIn or null` here, and
    // ApplicationIn itself stays non-null for the routes that take it as their body.
    application: z.union([appIn, z.null()]).optional(),
    expiry: z.number().int().min(3600).max(WEEK).nullish(),
    featureFlags: z
      .array(
        z
          .string()
          .min(1)
          .max(256)
          .regex(/^[a-zA-Z0-9\-_.]+$/),
      )
      .max(50)
      .optional(),
    // Refused rather than ignored, so nobody hands out a "read-only" link that can write.
    readOnly: z
      .boolean()
      .nullish()
      .refine((v) => !v, 'read-only portal sessions are not supported')
      .meta({ enum: [false, null] }),
    sessionId: sessionId.nullish(),
    capabilities: z
      .array(
        z.enum([
          'ViewBase',
          'ViewEndpointSecret',
          'ManageEndpointSecret',
          'ManageTransformations',
          'CreateAttempts',
          'ManageEndpoint',
        ]),
      )
      .max(10)
      .nullish(),
  })
  .strict()
  .meta({ id: 'AppPortalAccessIn' });

const portalAccessOut = z.object({ url: z.string(), token: z.string() }).meta({ id: 'AppPortalAccessOut' });

/** Svix's ApplicationTokenExpireIn. */
const tokenExpireIn = z
  .object({
    expiry: z
      .number()
      .int()
      .min(0)
      .max(3 * 24 * 3600)
      .nullish()
      .describe('Seconds until the tokens stop working; 0 or absent: at once'),
    sessionIds: z
      .array(sessionId)
      .max(1000)
      .nullish()
      .describe('Only the tokens issued with these sessionIds; absent or empty: every token'),
  })
  .strict()
  .meta({ id: 'ApplicationTokenExpireIn' });

/** Where people open the portal: PUBLIC_URL when set, else the origin this request came to. */
function publicOrigin(req: Request, publicUrl: string | undefined): string {
  if (publicUrl) return publicUrl.replace(/\/+$/, '');
  return `${req.protocol}://${req.get('host')}`;
}

export function authRouter({ orm, tokens, config }: ApiDeps): Router {
  const router = Router();

  defineRoute(
    router,
    {
      method: 'post',
      path: '/auth/app-portal-access/:app',
      operationId: 'v1.authentication.app-portal-access',
      summary: 'A portal link and token that reach one application only',
      tag: TAG,
      access: 'admin',
      idempotent: true,
      params: appPath,
      body: portalAccessIn,
      responses: {
        200: { description: 'The portal URL and its token', schema: portalAccessOut },
        404: { description: 'No such application' },
      },
    },
    async ({ req, params, body }) => {
      const em = orm.em.fork();
      // As Svix: `application` creates the application when the path names none yet.
      const app = body.application
        ? (await findOrCreateApp(em, params.app, body.application)).app
        : await findApp(em, req, params.app);
      const token = await tokens.issueAppToken(app.id, body.expiry ?? WEEK, body.sessionId);
      // The token rides in the fragment: browsers never send it, so it stays out of access logs.
      const url = `${publicOrigin(req, config.PUBLIC_URL)}/portal/#token=${encodeURIComponent(token)}&app=${encodeURIComponent(app.id)}`;
      return ok({ url, token });
    },
  );

  defineRoute(
    router,
    {
      method: 'post',
      path: '/auth/app/:app/expire-all',
      operationId: 'v1.authentication.expire-all',
      summary:
        'Expire every token of an application issued until now (a leaked portal link): at once, or after `expiry` seconds; only those of `sessionIds` when given. Tokens issued later work',
      tag: TAG,
      access: 'admin',
      idempotent: true,
      params: appPath,
      body: tokenExpireIn,
      responses: {
        204: { description: 'Expired: those tokens are refused from then on' },
        404: { description: 'No such application' },
      },
    },
    async ({ req, params, body }) => {
      const app = await findApp(orm.em.fork(), req, params.app);
      await expireAppTokens(orm, app.id, {
        expirySeconds: body.expiry ?? 0,
        sessionIds: body.sessionIds ?? null,
      });
      return noContent();
    },
  );

  defineRoute(
    router,
    {
      method: 'post',
      path: '/auth/logout',
      operationId: 'v1.authentication.logout',
      summary: 'Log out: the application token of this request is revoked (the admin token cannot be)',
      tag: TAG,
      responses: {
        204: { description: 'Revoked: the token is refused from now on' },
        403: { description: 'The admin token: it is configuration and cannot be logged out' },
      },
    },
    async ({ req }) => {
      const principal = principalOf(req);
      if (principal.kind !== 'app')
        throw forbidden('Only application tokens can be logged out; the admin token is configuration');
      const token = /^Bearer\s+(\S+)/i.exec(req.headers.authorization ?? '')![1];
      await revokeToken(orm, token, new Date(principal.expiresAt * 1000));
      return noContent();
    },
  );

  return router;
}
