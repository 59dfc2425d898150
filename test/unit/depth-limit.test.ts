import { DepthLimit } from '../../src/domain/depth-limit';

/**
 * A machine that serves `perMs` deliveries per ms once busy, and takes `alone` ms for one
 * delivery that waits for nothing: with D in flight, each takes max(alone, D / perMs).
 * Runs `n` deliveries with as many in flight as the limit allows; the places taken at the end.
 */
function run(d: DepthLimit, machine: { alone: number; perMs: number }, n: number, t0 = 0) {
  let t = t0;
  let depth = 0;
  for (let i = 0; i < n; i++) {
    depth = d.limit;
    const own = Math.max(machine.alone, depth / machine.perMs);
    // Deliveries end at the machine's rate once busy, or every `own / depth` ms when not.
    t += own / depth;
    d.observe(own * (0.95 + ((i * 7) % 11) / 100), depth, t);
  }
  return { depth, t };
}

describe('DepthLimit: places in flight, enough to keep the machine busy', () => {
  it('comes down from 32 to a few past what a busy machine serves at once, still keeping it busy', () => {
    const d = new DepthLimit({ max: 32, min: 2 });
    // A quiet moment first: one delivery alone takes 30 ms.
    d.observe(30, 1, 0);
    // 80 deliveries a second once busy: 2.4 in flight keep it so. Two minutes of it.
    let depth = 0;
    let t = 1;
    const seen: number[] = [];
    for (let round = 0; round < 10; round++) {
      ({ depth, t } = run(d, { alone: 30, perMs: 0.08 }, 1000, t));
      seen.push(depth);
    }
    expect(Math.min(...seen.slice(1))).toBeGreaterThanOrEqual(3);
    expect(Math.max(...seen)).toBeLessThanOrEqual(9);
  });

  it('grows back to the most when time in flight does not grow with the places (the machine is not busy)', () => {
    const d = new DepthLimit({ max: 32 });
    d.limit = 4;
    // Each delivery takes 30 ms however many are in flight.
    run(d, { alone: 30, perMs: 1000 }, 2000);
    expect(d.limit).toBe(32);
  });

  it('finds the new level when the machine gets faster, and the least time forgets old windows', () => {
    const d = new DepthLimit({ max: 64, min: 2, windowMs: 1000 });
    d.observe(30, 1, 0);
    const slow = run(d, { alone: 30, perMs: 0.08 }, 2000, 1);
    expect(slow.depth).toBeLessThanOrEqual(9);
    // Now 400 a second: 12 in flight keep it busy.
    const fast = run(d, { alone: 30, perMs: 0.4 }, 20_000, slow.t);
    expect(fast.depth).toBeGreaterThanOrEqual(12);
    expect(fast.depth).toBeLessThanOrEqual(20);
    expect(d.least).toBeGreaterThanOrEqual(28);
  });

  it('never goes below its floor, nor above its most', () => {
    const d = new DepthLimit({ max: 6, min: 4 });
    const limits = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      // Times all over the place.
      d.observe(((i * 7919) % 1000) + 1, d.limit, i * 10);
      limits.add(d.limit);
    }
    expect(Math.min(...limits)).toBeGreaterThanOrEqual(4);
    expect(Math.max(...limits)).toBeLessThanOrEqual(6);
    // By default the floor is 8 (what kept a burst's drain within 10% in the bench).
    const floored = new DepthLimit({ max: 32 });
    floored.observe(30, 1, 0);
    const floors: number[] = [];
    for (let round = 0, t = 1; round < 10; round++) {
      const r = run(floored, { alone: 30, perMs: 0.08 }, 500, t);
      t = r.t;
      floors.push(r.depth);
    }
    expect(Math.min(...floors)).toBe(8);
    expect(Math.max(...floors.slice(0, 3))).toBeLessThan(32);
    const tiny = new DepthLimit({ max: 2 });
    expect(tiny.limit).toBe(2);
    run(tiny, { alone: 30, perMs: 1000 }, 100);
    expect(tiny.limit).toBe(2);
  });
});
