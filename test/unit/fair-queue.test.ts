import { FairQueue } from '../../src/domain/fair-queue';

/** Takes until the queue gives nothing, finishing each at once unless `hold`: the order of admission. */
function admitAll(q: FairQueue<string>, hold = false): string[] {
  const order: string[] = [];
  for (let next = q.take(); next; next = q.take()) {
    order.push(next.item);
    if (!hold) q.finished(next.appId);
  }
  return order;
}

describe('FairQueue: which application goes next', () => {
  it('serves applications in turn, whatever order their deliveries came in', () => {
    const q = new FairQueue<string>({ places: 4 });
    for (let i = 1; i <= 5; i++) q.push('A', `a${i}`);
    q.push('B', 'b1');
    q.push('B', 'b2');
    q.push('C', 'c1');
    expect(admitAll(q)).toEqual(['a1', 'b1', 'c1', 'a2', 'b2', 'a3', 'a4', 'a5']);
    expect(q.size).toBe(0);
  });

  it("admits a late application's single delivery at the next turn, not behind the backlog", () => {
    const q = new FairQueue<string>({ places: 2 });
    for (let i = 1; i <= 1000; i++) q.push('A', `a${i}`);
    const first = q.take()!;
    expect(first.item).toBe('a1');
    q.push('B', 'b1');
    expect(q.take()!.item).toBe('b1');
  });

  it('keeps one application to its fair share while others wait, and gives it every place when alone', () => {
    const q = new FairQueue<string>({ places: 4 });
    for (let i = 1; i <= 10; i++) q.push('A', `a${i}`);
    // A alone: all four places (nothing else waits, so no place stays idle).
    expect([q.take(), q.take(), q.take(), q.take()].map((t) => t!.item)).toEqual(['a1', 'a2', 'a3', 'a4']);
    expect(q.inFlightOf('A')).toBe(4);
    // B arrives; A's places come back one by one and go to B first, then in turn.
    q.push('B', 'b1');
    q.push('B', 'b2');
    q.finished('A');
    expect(q.take()!.item).toBe('b1');
    q.finished('A');
    // A holds 2 of 4 with two waiting: that is its share, so B, under its own, comes first.
    expect(q.take()!.item).toBe('b2');
    q.finished('A');
    expect(q.take()!.item).toBe('a5');
  });

  it('never exceeds a hard limit, even alone; the place goes to the next application', () => {
    const limits: Record<string, number> = { A: 2 };
    const q = new FairQueue<string>({ places: 10, limitOf: (app) => limits[app] ?? null });
    for (let i = 1; i <= 5; i++) q.push('A', `a${i}`);
    expect(admitAll(q, true)).toEqual(['a1', 'a2']);
    expect(q.take()).toBeNull();
    expect(q.snapshot()).toMatchObject({ waiting: 1, inFlight: 1, atLimit: 1 });
    expect([q.busy('A'), q.busy('B')]).toEqual([true, false]);
    q.push('B', 'b1');
    expect(q.take()!.item).toBe('b1');
    q.finished('A');
    expect(q.take()!.item).toBe('a3');
  });

  it("counts an application's attempts that did not pass through the queue (retries) against its share", () => {
    const q = new FairQueue<string>({ places: 4 });
    // A retry wave of A: four attempts in flight that the queue never admitted.
    for (let i = 0; i < 4; i++) q.started('A');
    q.push('A', 'a1');
    q.push('B', 'b1');
    q.push('B', 'b2');
    // A holds its share (and more) while B waits: both of B's go first.
    expect(admitAll(q, true)).toEqual(['b1', 'b2', 'a1']);
  });

  it("takes an application's first deliveries before its replays, and replays in turn with the others", () => {
    const q = new FairQueue<string>({ places: 8 });
    for (let i = 1; i <= 3; i++) q.push('A', `replay${i}`, 'replay');
    q.push('A', 'new1');
    q.push('B', 'b1');
    q.push('B', 'b2');
    expect(admitAll(q)).toEqual(['new1', 'b1', 'replay1', 'b2', 'replay2', 'replay3']);
  });

  it('drains first deliveries before replays and forgets the turn order', () => {
    const q = new FairQueue<string>({ places: 1 });
    q.push('A', 'r', 'replay');
    q.push('A', 'a');
    q.push('B', 'b');
    expect(q.drain()).toEqual(['a', 'r', 'b']);
    expect(q.size).toBe(0);
    expect(q.take()).toBeNull();
  });

  it('keeps order within an application across a long queue (compaction)', () => {
    const q = new FairQueue<number>({ places: 1 });
    for (let i = 0; i < 5000; i++) q.push('A', i);
    const out: number[] = [];
    for (let next = q.take(); next; next = q.take()) {
      out.push(next.item);
      q.finished(next.appId);
      if (out.length === 2500) for (let i = 5000; i < 6000; i++) q.push('A', i);
    }
    expect(out).toEqual(Array.from({ length: 6000 }, (_, i) => i));
  });

  it('reports who waits and who is busy without naming them', () => {
    const q = new FairQueue<string>({ places: 4, limitOf: (app) => (app === 'B' ? 1 : null) });
    for (let i = 0; i < 3; i++) q.push('A', `a${i}`);
    q.push('B', 'b1');
    q.push('B', 'b2');
    q.take();
    q.take();
    expect(q.snapshot()).toEqual({
      waiting: 2,
      inFlight: 2,
      atLimit: 1,
      busiest: { inFlight: 1, waiting: 2 },
    });
  });
});
