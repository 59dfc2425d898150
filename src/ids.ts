import { randomFillSync } from 'node:crypto';
import { monotonicFactory } from 'ulid';

/**
 * Ids carry Svix's prefixes and sort by creation time (a ULID after the prefix), so keyset
 * pagination by id is pagination by time. Monotonic within a process.
 */
const next = monotonicFactory(pooledRandom());

/**
 * ulid's default source makes one crypto call per character (16 per id); this one draws
 * the same kind of bytes from a pooled buffer, a crypto call per 4096 bytes (the ingest
 * path makes an id per message).
 */
function pooledRandom(): () => number {
  const pool = Buffer.alloc(4096);
  let at = pool.length;
  return () => {
    if (at === pool.length) {
      randomFillSync(pool);
      at = 0;
    }
    return pool[at++] / 256;
  };
}

export type IdPrefix = 'app' | 'ep' | 'msg' | 'atmpt' | 'qtask' | 'evt';

export function newId(prefix: IdPrefix, at: number = Date.now()): string {
  return `${prefix}_${next(at)}`;
}

/** The smallest id of a prefix created at or after a time: a keyset bound for date windows. */
export function idAt(prefix: IdPrefix, at: Date): string {
  // ULID time part: 10 Crockford base32 chars; the random part is all zeros.
  const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  let t = at.getTime();
  let time = '';
  for (let i = 0; i < 10; i++) {
    time = alphabet[t % 32] + time;
    t = Math.floor(t / 32);
  }
  return `${prefix}_${time}${'0'.repeat(16)}`;
}

export const ID_PATTERN = /^[a-z]+_[0-9A-Za-z]{1,64}$/;
