import { createHash } from 'node:crypto';
import type { Request } from 'express';
import type { Orm } from '../../src/db/orm';
import { HttpError, invalid } from '../http-errors';

/** How long a finished response is replayed for the same key (Svix: 12 h). */
const TTL_HOURS = 12;
/** An `in_progress` row older than this belongs to a request that died; a retry takes it over. */
const ABANDONED_AFTER_S = 120;
/** How long a concurrent duplicate waits for the first request before it gets a 409. */
const WAIT_MS = 30_000;
const POLL_MS = 50;

export interface StoredResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/**
 * Idempotency keys as Svix has them: a POST with an `idempotency-key` header runs once per
 * (token, key, method, URI) for 12 hours; a repeat gets the first response again. The
 * record's key is a hash, so neither the token nor the caller's key is stored.
 */
export class IdempotencyStore {
  constructor(private readonly orm: Orm) {}

  static keyOf(req: Request, key: string): string {
    const token = /^Bearer\s+(\S+)/i.exec(req.headers.authorization ?? '')?.[1] ?? '';
    return createHash('sha256').update([token, key, req.method, req.originalUrl].join('\n')).digest('hex');
  }

  /** Validates the header: printable ASCII, at most 256 characters. */
  static header(req: Request): string | undefined {
    const key = req.get('idempotency-key');
    if (key === undefined) return undefined;
    if (key.length < 1 || key.length > 256 || !/^[\x21-\x7e]+$/.test(key))
      throw invalid(['header', 'idempotency-key'], 'must be 1 to 256 printable characters without spaces');
    return key;
  }

  /**
   * Runs `work` once for this key. The first request inserts an `in_progress` row; a
   * duplicate that finds it waits for the first to finish and answers the same. A 5xx or
   * a thrown error removes the row, so a retry runs the work again.
   */
  async run(
    hash: string,
    work: () => Promise<StoredResponse | null>,
  ): Promise<(StoredResponse & { replayed: boolean }) | null> {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      if (await this.claim(hash)) break;
      const row = await this.read(hash);
      if (row?.state === 'done') {
        const saved = (row.body ?? {}) as { body?: unknown; headers?: Record<string, string> };
        return { status: row.status_code!, body: saved.body, headers: saved.headers, replayed: true };
      }
      if (Date.now() > deadline)
        throw new HttpError(
          409,
          'conflict',
          'A request with this idempotency key is still in progress; retry later',
          { 'retry-after': '1' },
        );
      // `row` null: the first one failed and removed it; the next claim may win.
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    let result: StoredResponse | null;
    try {
      result = await work();
    } catch (err) {
      await this.release(hash);
      throw err;
    }
    // A handler that wrote its own response (streaming) cannot be replayed: not recorded.
    if (!result || result.status >= 500) {
      await this.release(hash);
      return result && { ...result, replayed: false };
    }
    await this.finish(hash, result);
    return { ...result, replayed: false };
  }

  private conn() {
    return this.orm.em.getConnection();
  }

  /** True when this request now owns the key: no row, an expired one, or an abandoned one. */
  private async claim(hash: string): Promise<boolean> {
    const rows: unknown[] = await this.conn().execute(
      `insert into idempotency_records (key, state, created_at, expires_at)
       values (?, 'in_progress', now(), now() + make_interval(hours => ?))
       on conflict (key) do update set state = 'in_progress', status_code = null, body = null,
         created_at = now(), expires_at = excluded.expires_at
       where idempotency_records.expires_at < now()
          or (idempotency_records.state = 'in_progress' and idempotency_records.created_at < now() - make_interval(secs => ?))
       returning key`,
      [hash, TTL_HOURS, ABANDONED_AFTER_S],
    );
    return rows.length === 1;
  }

  private async read(
    hash: string,
  ): Promise<{ state: string; status_code: number | null; body: unknown } | null> {
    const rows: Array<{ state: string; status_code: number | null; body: unknown }> =
      await this.conn().execute('select state, status_code, body from idempotency_records where key = ?', [
        hash,
      ]);
    return rows[0] ?? null;
  }

  private async finish(hash: string, result: StoredResponse): Promise<void> {
    await this.conn().execute(
      `update idempotency_records set state = 'done', status_code = ?, body = ?::jsonb where key = ?`,
      [result.status, JSON.stringify({ body: result.body, headers: result.headers }), hash],
    );
  }

  private async release(hash: string): Promise<void> {
    await this.conn().execute(`delete from idempotency_records where key = ? and state = 'in_progress'`, [
      hash,
    ]);
  }
}
