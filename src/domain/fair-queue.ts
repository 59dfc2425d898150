/**
 * Which application's delivery starts next: the admission rule of the dispatcher, kept pure
 * (no I/O, no clock) so it is unit-tested on its own (test/unit/fair-queue.test.ts).
 *
 * - **In turn.** Applications with deliveries waiting are served round robin, one delivery
 *   each per turn, whatever order their deliveries came in: one application's burst waits
 *   behind nobody else's single message.
 * - **A fair share of the places.** While others wait, an application that holds its share
 *   of the places in flight (places ÷ applications waiting) or more is passed over; when all
 *   hold that much, the one with the fewest in flight goes next. Alone, an application takes
 *   every free place: fairness never leaves a place idle.
 * - **A hard limit.** An application's own limit (`maxInFlight`, or the setting) is never
 *   exceeded, even when nobody else waits.
 * - **First deliveries before replays** of the same application: a replay waits behind its
 *   own application's new messages, and takes its turns with everyone else's.
 */

/** First deliveries (new messages, the reconciler) and replays (bulk replay, recover, replay-missing). */
export type Lane = 'first' | 'replay';

/** A first-in-first-out queue whose shift is O(1) (Array#shift copies the rest). */
class Fifo<T> {
  private items: T[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined as T;
    // Compacted once the dead head outweighs the rest.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  drain(): T[] {
    const rest = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    return rest;
  }
}

interface Waiting<T> {
  first: Fifo<T>;
  replay: Fifo<T>;
}

export interface FairQueueOptions {
  /** Places in flight at once (the dispatcher's concurrency): what fair shares divide. */
  places: number;
  /** An application's hard limit on deliveries in flight; null: its fair share only. */
  limitOf?: (appId: string) => number | null;
}

/** What health details and /metrics show of the queue (no application ids: those stay private). */
export interface FairnessSnapshot {
  /** Applications with deliveries waiting. */
  waiting: number;
  /** Applications with deliveries in flight. */
  inFlight: number;
  /** Applications with deliveries waiting that are at their hard limit. */
  atLimit: number;
  /** The most deliveries one application has in flight, and the most one has waiting. */
  busiest: { inFlight: number; waiting: number };
}

export class FairQueue<T> {
  /** Applications with deliveries waiting, in turn order: served from the front, then moved to the back. */
  private readonly waiting = new Map<string, Waiting<T>>();
  private readonly inFlight = new Map<string, number>();
  private count = 0;

  constructor(private readonly opts: FairQueueOptions) {}

  /** Deliveries waiting, across applications. */
  get size(): number {
    return this.count;
  }

  push(appId: string, item: T, lane: Lane = 'first'): void {
    let w = this.waiting.get(appId);
    if (!w) {
      w = { first: new Fifo(), replay: new Fifo() };
      this.waiting.set(appId, w);
    }
    w[lane].push(item);
    this.count++;
  }

  /**
   * The next delivery to start, counted in flight for its application until `finished`; null
   * when nothing waits or every application waiting is at its hard limit.
   */
  take(): { appId: string; item: T } | null {
    if (this.count === 0) return null;
    const share = Math.ceil(this.opts.places / this.waiting.size);
    // The first in turn under its share; failing that (all hold their share or more), the
    // one with the fewest in flight. Null when all are at their hard limit.
    let chosen: string | null = null;
    let fallback: string | null = null;
    let fewest = Infinity;
    for (const appId of this.waiting.keys()) {
      const n = this.inFlightOf(appId);
      const limit = this.opts.limitOf?.(appId) ?? null;
      if (limit !== null && n >= limit) continue;
      if (n < share) {
        chosen = appId;
        break;
      }
      if (n < fewest) [fallback, fewest] = [appId, n];
    }
    chosen ??= fallback;
    if (chosen === null) return null;
    const w = this.waiting.get(chosen)!;
    const item = (w.first.length > 0 ? w.first.shift() : w.replay.shift()) as T;
    this.count--;
    // To the back of the turn order, or out of it when nothing of its own waits.
    this.waiting.delete(chosen);
    if (w.first.length + w.replay.length > 0) this.waiting.set(chosen, w);
    this.started(chosen);
    return { appId: chosen, item };
  }

  /** One more delivery of the application in flight (taken here, or an attempt that did not pass through). */
  started(appId: string): void {
    this.inFlight.set(appId, this.inFlightOf(appId) + 1);
  }

  /** One delivery of the application no longer in flight. */
  finished(appId: string): void {
    const n = this.inFlightOf(appId) - 1;
    if (n > 0) this.inFlight.set(appId, n);
    else this.inFlight.delete(appId);
  }

  inFlightOf(appId: string): number {
    return this.inFlight.get(appId) ?? 0;
  }

  /** The application has deliveries waiting or in flight. */
  busy(appId: string): boolean {
    return this.waiting.has(appId) || this.inFlight.has(appId);
  }

  /** Everything waiting, first deliveries before replays within each application; the queue is left empty. */
  drain(): T[] {
    const out: T[] = [];
    for (const w of this.waiting.values()) out.push(...w.first.drain(), ...w.replay.drain());
    this.waiting.clear();
    this.count = 0;
    return out;
  }

  snapshot(): FairnessSnapshot {
    let atLimit = 0;
    let mostWaiting = 0;
    for (const [appId, w] of this.waiting) {
      const limit = this.opts.limitOf?.(appId) ?? null;
      if (limit !== null && this.inFlightOf(appId) >= limit) atLimit++;
      mostWaiting = Math.max(mostWaiting, w.first.length + w.replay.length);
    }
    let mostInFlight = 0;
    for (const n of this.inFlight.values()) mostInFlight = Math.max(mostInFlight, n);
    return {
      waiting: this.waiting.size,
      inFlight: this.inFlight.size,
      atLimit,
      busiest: { inFlight: mostInFlight, waiting: mostWaiting },
    };
  }
}
