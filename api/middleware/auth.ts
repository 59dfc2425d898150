import type { NextFunction } from 'express';
import type { Principal, Tokens } from '../../src/domain/tokens';
import type { Orm } from '../../src/db/orm';
import type { ApiRequest } from '../context';
import { forbidden, unauthorized } from '../http-errors';
import { TOKEN_EXPIRED_SQL, tokenHash } from '../../src/domain/token-revocation';

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}

/**
 * Bearer auth: the admin token reaches everything, an app token only its application.
 * An app token outlives nothing: once its application is deleted, after a logout, or after
 * an expire-all of its application's tokens, it is a 401 as an unknown token is (one query:
 * two primary-key lookups and one indexed probe; given `orm`).
 */
export function authenticate(tokens: Tokens, orm?: Orm) {
  return async (req: ApiRequest, _res: unknown, next: NextFunction) => {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const principal = match ? await tokens.verify(match[1]) : null;
    if (!principal) throw unauthorized();
    if (principal.kind === 'app' && orm) {
      const [row]: Array<{ app: boolean; revoked: boolean; expired: boolean }> = await orm.em
        .getConnection()
        .execute(
          `select exists (select 1 from applications where id = ? and deleted_at is null) as app,
                  exists (select 1 from revoked_tokens where token_hash = ?) as revoked,
                  ${TOKEN_EXPIRED_SQL} as expired`,
          [
            principal.appId,
            tokenHash(match![1]),
            principal.appId,
            new Date(principal.issuedAtMs),
            principal.sessionId,
          ],
        );
      if (row.revoked) throw unauthorized('This token was revoked by a logout');
      if (row.expired)
        throw unauthorized("This token was expired by an expire-all of its application's tokens");
      if (!row.app) throw unauthorized('The application of this token no longer exists');
    }
    req.principal = principal;
    next();
  };
}

export function principalOf(req: ApiRequest): Principal {
  if (!req.principal) throw unauthorized();
  return req.principal;
}

/** Admin-only routes answer 403 to app tokens, as Svix's do. */
export function requireAdmin(req: ApiRequest): void {
  if (principalOf(req).kind !== 'admin') throw forbidden();
}
