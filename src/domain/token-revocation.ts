import { createHash } from 'node:crypto';
import type { Orm } from '../db/orm';
import { textArray } from '../db/sql';
import { MAX_APP_TOKEN_TTL_S } from './tokens';

/** What the revocation list stores for a token: its SHA-256, never the token. */
export const tokenHash = (token: string) => createHash('sha256').update(token).digest('hex');

/** Expired rows pruned per logout or expire-all: the lists stay as small as what they still refuse. */
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

/**
 * Expire-all: every token of the application issued until now stops working `expirySeconds`
 * from now (at once for 0), or only those of the given portal sessions. Tokens issued
 * afterwards are not touched. A row outlives no token it names by more than the longest
 * token life, after which it is pruned.
 */
export async function expireAppTokens(
  orm: Orm,
  appId: string,
  opts: { expirySeconds: number; sessionIds: string[] | null },
): Promise<void> {
  const conn = orm.em.getConnection();
  // The API's clock, as the tokens' `iatMs` is: the same clock decides both sides.
  const issuedBefore = new Date();
  const expiresAt = new Date(issuedBefore.getTime() + opts.expirySeconds * 1000);
  // One row per session named, or one row (session null) for every token.
  await conn.execute(
    `insert into app_token_expiries (app_id, issued_before, expires_at, session_id)
     select ?, ?, ?, s from unnest(coalesce(?::text[], array[null::text])) s`,
    [appId, issuedBefore, expiresAt, opts.sessionIds?.length ? textArray(opts.sessionIds) : null],
  );
  await conn.execute(
    `delete from app_token_expiries where ctid in
       (select ctid from app_token_expiries where issued_before < now() - make_interval(secs => ?) limit ?)`,
    [MAX_APP_TOKEN_TTL_S, PRUNE_BATCH],
  );
}

/**
 * SQL for "this app token was expired by an expire-all", with parameters app id, the
 * token's issue time and its session id (or null).
 */
export const TOKEN_EXPIRED_SQL = `exists (select 1 from app_token_expiries x
  where x.app_id = ? and x.issued_before > ? and x.expires_at <= now()
    and (x.session_id is null or x.session_id = ?))`;
