import { randomBytes, timingSafeEqual } from 'node:crypto';
import { deriveKey } from './crypto';
import { loadEsm } from '../esm';

type Jose = typeof import('jose');

/** `expiresAt` (epoch seconds) is when an app token ends: how long a logout must remember it. */
export type Principal = { kind: 'admin' } | { kind: 'app'; appId: string; expiresAt: number };

const AUDIENCE = 'hookflow:app';

/** Admin token (from the configuration) and app tokens (JWTs scoped to one application). */
export class Tokens {
  private readonly key: Uint8Array;
  private readonly admin: Buffer;

  constructor(adminToken: string, secretKey: string) {
    this.admin = Buffer.from(adminToken);
    this.key = deriveKey(secretKey, 'app-tokens');
  }

  async issueAppToken(appId: string, ttlSeconds = 7 * 24 * 3600): Promise<string> {
    const { SignJWT } = await loadEsm<Jose>('jose');
    return (
      new SignJWT({ app: appId })
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
      return typeof payload.app === 'string' && typeof payload.exp === 'number'
        ? { kind: 'app', appId: payload.app, expiresAt: payload.exp }
        : null;
    } catch {
      return null;
    }
  }
}
