import { randomBytes, timingSafeEqual } from 'node:crypto';
import { deriveKey } from './crypto';
import { loadEsm } from '../esm';

type Jose = typeof import('jose');

/**
 * `expiresAt` (epoch seconds) is when an app token ends: how long a logout must remember it.
 * `issuedAtMs` and `sessionId` are what expire-all compares (src/domain/token-revocation.ts).
 */
export type Principal =
  | { kind: 'admin' }
  | { kind: 'app'; appId: string; expiresAt: number; issuedAtMs: number; sessionId: string | null };

const AUDIENCE = 'hookflow:app';

/** The longest an app token lives (app-portal-access `expiry` is at most a week). */
export const MAX_APP_TOKEN_TTL_S = 7 * 24 * 3600;

/** Admin token (from the configuration) and app tokens (JWTs scoped to one application). */
export class Tokens {
  private readonly key: Uint8Array;
  private readonly admin: Buffer;

  constructor(adminToken: string, secretKey: string) {
    this.admin = Buffer.from(adminToken);
    this.key = deriveKey(secretKey, 'app-tokens');
  }

  async issueAppToken(
    appId: string,
    ttlSeconds = MAX_APP_TOKEN_TTL_S,
    sessionId?: string | null,
  ): Promise<string> {
    const { SignJWT } = await loadEsm<Jose>('jose');
    // `iat` has whole seconds; expire-all must tell apart a token issued just after it.
    const claims: Record<string, unknown> = { app: appId, iatMs: Date.now() };
    if (sessionId) claims.sid = sessionId;
    return (
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256' })
        // Unique per session: two tokens issued in the same second must not be the same
        // string, or logging out one would revoke the other.
        .setJti(randomBytes(12).toString('base64url'))
        .setAudience(AUDIENCE)
        .setIssuedAt()
        .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
        .sign(this.key)
    );
  }

  async verify(token: string): Promise<Principal | null> {
    const given = Buffer.from(token);
    if (given.length === this.admin.length && timingSafeEqual(given, this.admin)) return { kind: 'admin' };
    if (token.split('.').length !== 3) return null;
    try {
      const { jwtVerify } = await loadEsm<Jose>('jose');
      const { payload } = await jwtVerify(token, this.key, { audience: AUDIENCE, algorithms: ['HS256'] });
      if (typeof payload.app !== 'string' || typeof payload.exp !== 'number') return null;
      return {
        kind: 'app',
        appId: payload.app,
        expiresAt: payload.exp,
        // Tokens issued before iatMs existed count from the start of their second, so an
        // expire-all in that same second still reaches them.
        issuedAtMs: typeof payload.iatMs === 'number' ? payload.iatMs : (payload.iat ?? 0) * 1000,
        sessionId: typeof payload.sid === 'string' ? payload.sid : null,
      };
    } catch {
      return null;
    }
  }
}
