import type { Orm } from '../db/orm';
import { textArray } from '../db/sql';
import type { Logger } from '../logger';

/** Applications whose limit is kept; the least recently refreshed go first past it. */
const MAX_KNOWN = 10_000;

/**
 * Each application's limit on deliveries in flight, for the dispatcher's fair queue: its own
 * `maxInFlight` (a Hookflow extension of the application), else HOOKFLOW_APP_MAX_IN_FLIGHT,
 * else null (its fair share). The queue asks on every admission, so this answers from memory
 * and reads PostgreSQL in the background, in batches: a change reaches every process within
 * `ttlMs`, and the message path never waits for it.
 */
export class ApplicationLimits {
  private readonly known = new Map<string, { own: number | null; at: number }>();
  private readonly wanted = new Set<string>();
  private loading = false;
  private readonly ttlMs: number;

  constructor(
    private readonly opts: {
      orm: Orm;
      /** HOOKFLOW_APP_MAX_IN_FLIGHT: null for a fair share. */
      fallback: number | null;
      log: Logger;
      ttlMs?: number;
    },
  ) {
    this.ttlMs = opts.ttlMs ?? 10_000;
  }

  get fallback(): number | null {
    return this.opts.fallback;
  }

  limitOf(appId: string): number | null {
    const k = this.known.get(appId);
    if (!k || performance.now() - k.at > this.ttlMs) this.want(appId);
    return k?.own ?? this.opts.fallback;
  }

  private want(appId: string): void {
    this.wanted.add(appId);
    if (this.loading) return;
    this.loading = true;
    setImmediate(() => void this.load());
  }

  private async load(): Promise<void> {
    const ids = [...this.wanted];
    this.wanted.clear();
    const at = performance.now();
    try {
      const rows: Array<{ id: string; max_in_flight: number | null }> = await this.opts.orm.em
        .getConnection()
        .execute('select id, max_in_flight from applications where id = any(?::text[])', [textArray(ids)]);
      const own = new Map(rows.map((r) => [r.id, r.max_in_flight]));
      for (const id of ids) this.remember(id, own.get(id) ?? null, at);
    } catch (err) {
      // PostgreSQL unreachable: the setting applies until the next try, one TTL later.
      this.opts.log.debug({ err: String(err) }, 'application limits not read');
      for (const id of ids) this.remember(id, this.known.get(id)?.own ?? null, at);
    } finally {
      this.loading = false;
      if (this.wanted.size > 0) this.want([...this.wanted][0]);
    }
  }

  private remember(appId: string, own: number | null, at: number): void {
    this.known.delete(appId);
    this.known.set(appId, { own, at });
    if (this.known.size > MAX_KNOWN) this.known.delete(this.known.keys().next().value!);
  }
}
