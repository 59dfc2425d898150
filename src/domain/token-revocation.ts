import { createHash } from 'node:crypto';
import type { Orm } from '../db/orm';

/** What the revocation list stores for a token: its SHA-256, never the token. */
export const tokenHash = (token: string) => createHash('sha256').update(token).digest('hex');

/** Expired rows pruned per logout: the list stays as small as the live revoked tokens. */
const PRUNE_BATCH = 1000;

/**
 * Logout of an application token: it is refused from now on, until it would have expired
 * anyway (after that the JWT check refuses it and the row is pruned).
 */
export async function revokeToken(orm: Orm, token: string, expiresAt: Date): Promise<void> {
  const conn = orm.em.getConnection();
  await conn.execute(
    `insert into revoked_tokens (token_hash, expires_at) values (?, ?) on conflict (token_hash) do nothing`,
    [tokenHash(token), expiresAt],
  );
  await conn.execute(
    `delete from revoked_tokens where token_hash in
       (select token_hash from revoked_tokens where expires_at < now() limit ?)`,
    [PRUNE_BATCH],
  );
}
