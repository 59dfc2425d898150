/**
 * How many deliveries to keep in flight while applications share the dispatcher: enough to
 * keep the machine busy, and no more. A delivery in flight shares the CPU of the worker, the
 * Temporal server and PostgreSQL with every other one, so past the point where the machine is
 * busy each place more only lengthens every delivery's time in flight: another application's
 * message, admitted at its turn, would still wait behind the whole pipeline (issue 22).
 *
 * The rule is TCP Vegas's, on Hookflow's own part of a delivery: its time in its place minus
 * the receiver's answer time (a slow receiver is not the machine being busy). The least such
 * time seen lately is the time of a delivery that waited for nothing; `inFlight × (1 −
 * least / average)` estimates how many of those in flight are waiting for CPU rather than
 * being worked on. More than `beta` waiting: down to what the machine serves (plus headroom);
 * fewer than `alpha` while every place is taken: one place more. The least time is only right
 * if some deliveries waited for nothing: when no delivery ended with `min` or fewer in flight
 * for a whole window, the limit drops to `min` for one round to see it again (a probe: the
 * machine stays busy, and the places come back one by one). Pure (no clock of its own).
 */
export interface DepthLimitOptions {
  /** The most places (HOOKFLOW_DISPATCH_CONCURRENCY). */
  max: number;
  /**
   * The fewest places (default 8). At 4, a quiet 2-core machine served a 10,000-message burst
   * 15–18% slower while another application posted (fewer deliveries per Temporal and
   * PostgreSQL round); at 8 it was 0–8% slower, with the other's p95 at 0.25 s (BENCHMARKS.md).
   */
  min?: number;
  alpha?: number;
  beta?: number;
  /** The least time is the least seen over the last one to two windows; a probe at most once a window. */
  windowMs?: number;
}

export class DepthLimit {
  limit: number;
  private readonly min: number;
  private readonly alpha: number;
  private readonly beta: number;
  private readonly windowMs: number;
  private windowStart = -Infinity;
  private leastNow = Infinity;
  private leastBefore = Infinity;
  private sum = 0;
  private count = 0;
  /** When a delivery last ended with `min` or fewer in flight: its time is close to the least. */
  private shallowAt = -Infinity;

  constructor(private readonly opts: DepthLimitOptions) {
    this.min = Math.min(opts.min ?? 8, opts.max);
    this.alpha = opts.alpha ?? 2;
    this.beta = opts.beta ?? 4;
    this.windowMs = opts.windowMs ?? 30_000;
    this.limit = opts.max;
  }

  /** The least time in flight seen lately (ms), or null before any. */
  get least(): number | null {
    const least = Math.min(this.leastNow, this.leastBefore);
    return Number.isFinite(least) ? least : null;
  }

  /**
   * One delivery's own time in flight (ms), `inFlight` places taken as it ended, at `now`
   * (a monotonic clock, ms). Decides once per `limit` deliveries, on their average.
   */
  observe(ownMs: number, inFlight: number, now: number): void {
    if (now - this.windowStart >= this.windowMs) {
      this.leastBefore = this.leastNow;
      this.leastNow = Infinity;
      this.windowStart = now;
    }
    const own = Math.max(ownMs, 0.1);
    this.leastNow = Math.min(this.leastNow, own);
    if (inFlight <= this.min) this.shallowAt = now;
    this.sum += own;
    if (++this.count < this.limit) return;
    const average = this.sum / this.count;
    this.sum = 0;
    this.count = 0;
    if (now - this.shallowAt > this.windowMs) {
      this.limit = this.min;
      this.shallowAt = now;
      return;
    }
    const least = this.least!;
    const served = (inFlight * least) / average;
    const waiting = inFlight - served;
    if (waiting > this.beta) this.limit = Math.max(this.min, Math.ceil(served + this.beta));
    else if (waiting < this.alpha && inFlight >= this.limit)
      this.limit = Math.min(this.opts.max, this.limit + 1);
  }
}
