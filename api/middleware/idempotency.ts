import { createHash } from 'node:crypto';
import type { Orm } from '../../src/db/orm';
import type { ApiRequest } from '../context';
import { RawJson, stringify } from '../../src/domain/raw-json';
import { HttpError, invalid } from '../http-errors';

/** How long a finished response is replayed for the same key (Svix: 12 h). */
export const IDEMPOTENCY_TTL_HOURS = 12;
/** An `in_progress` row older than this belongs to a request that died; a retry takes it over. */
export const ABANDONED_AFTER_S = 120;
/** How long a concurrent duplicate waits for the first request before it gets a 409. */
const WAIT_MS = 30_000;
const POLL_MS = 50;

export interface StoredResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type Replayed = StoredResponse & { replayed: boolean };

interface Row {
  state: string;
  fingerprint: string | null;
  status_code: number | null;
  response_headers: Record<string, string> | null;
  response_body: string | null;
}

/**
 * Idempotency keys as Svix has them: a POST with an `idempotency-key` header runs once per
 * (token, key, method, URI) for 12 hours; a repeat gets the first response again, as the
 * same bytes. The record is bound to a fingerprint of the request (method, URI, body
 * hash): the same key with another body is refused with a 422 naming the header. The
 * record's key is a hash, so neither the token nor the caller's key is stored.
 *
 * Message create writes its record in the statement that stores the message
 * (src/domain/ingest.ts), so the two commit together. Other routes use `run`: an
 * `in_progress` record, the work, then the response; a crash in between leaves a record a
 * retry takes over after ABANDONED_AFTER_S.
 */
export class IdempotencyStore {
  constructor(private readonly orm: Orm) {}

  static keyOf(req: ApiRequest, key: string): string {
    const token = /^Bearer\s+(\S+)/i.exec(req.headers.authorization ?? '')?.[1] ?? '';
    return createHash('sha256').update([token, key, req.method, req.originalUrl].join('\n')).digest('hex');
  }

  /** What the key is bound to: method, URI and the body's exact bytes. */
  static fingerprintOf(req: ApiRequest): string {
    return createHash('sha256')
      .update(`${req.method}\n${req.originalUrl}\n`)
      .update(req.rawBody ?? '')
      .digest('hex');
  }

  /** Validates the header: printable ASCII, at most 256 characters. */
  static header(req: ApiRequest): string | undefined {
    // Node's own headers, not req.get: the API's fast path hands in a plain IncomingMessage.
    // Node joins a repeated header into one string, as req.get returned it.
    const key = req.headers['idempotency-key'] as string | undefined;
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
    fingerprint: string | null = null,
  ): Promise<Replayed | null> {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      if (await this.claim(hash, fingerprint)) break;
      const replay = await this.replay(hash, fingerprint, deadline);
      if (replay) return replay;
      // The first one failed and removed its row: the next claim may win.
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

  /**
   * The answer for a key another request holds: its response once done (waiting while it
   * is in progress), a 422 when it was used with another request, null when it is gone.
   */
  async replay(
    hash: string,
    fingerprint: string | null,
    deadline = Date.now() + WAIT_MS,
  ): Promise<Replayed | null> {
    for (;;) {
      const row = await this.read(hash);
      if (!row) return null;
      if (row.fingerprint && fingerprint && row.fingerprint !== fingerprint)
        throw invalid(
          ['header', 'idempotency-key'],
          `was already used with a different request (method, URI or body) in the last ${IDEMPOTENCY_TTL_HOURS} hours; use a new key for a new request`,
        );
      if (row.state === 'done')
        return {
          status: row.status_code!,
          body: row.response_body === null ? undefined : new RawJson(row.response_body),
          headers: row.response_headers ?? undefined,
          replayed: true,
        };
      if (Date.now() > deadline)
        throw new HttpError(
          409,
          'conflict',
          'A request with this idempotency key is still in progress; retry later',
          { 'retry-after': '1' },
        );
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }

  private conn() {
    return this.orm.em.getConnection();
  }

  /** True when this request now owns the key: no row, an expired one, or an abandoned one. */
  private async claim(hash: string, fingerprint: string | null): Promise<boolean> {
    const rows: unknown[] = await this.conn().execute(
      `insert into idempotency_records (key, fingerprint, state, created_at, expires_at)
       values (?, ?, 'in_progress', now(), now() + make_interval(hours => ?))
       on conflict (key) do update set state = 'in_progress', fingerprint = excluded.fingerprint,
         status_code = null, response_headers = null, response_body = null,
         created_at = now(), expires_at = excluded.expires_at
       where idempotency_records.expires_at < now()
          or (idempotency_records.state = 'in_progress' and idempotency_records.created_at < now() - make_interval(secs => ?))
       returning key`,
      [hash, fingerprint, IDEMPOTENCY_TTL_HOURS, ABANDONED_AFTER_S],
    );
    return rows.length === 1;
  }

  private async read(hash: string): Promise<Row | null> {
    const rows: Row[] = await this.conn().execute(
      `select state, fingerprint, status_code, response_headers, response_body
         from idempotency_records where key = ?`,
      [hash],
    );
    return rows[0] ?? null;
  }

  private async finish(hash: string, result: StoredResponse): Promise<void> {
    await this.conn().execute(
      `update idempotency_records set state = 'done', status_code = ?, response_headers = ?::jsonb, response_body = ?
        where key = ?`,
      [
        result.status,
        result.headers ? JSON.stringify(result.headers) : null,
        result.body === undefined ? null : (stringify(result.body) ?? null),
        hash,
      ],
    );
  }

  private async release(hash: string): Promise<void> {
    await this.conn().execute(`delete from idempotency_records where key = ? and state = 'in_progress'`, [
      hash,
    ]);
  }
}
