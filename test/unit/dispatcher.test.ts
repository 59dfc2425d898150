import { Dispatcher, type DeliveryRef } from '../../src/domain/dispatcher';

/**
 * The dispatcher's admission rules with a fake Temporal client and a fake database (the
 * stack tests run the real ones: test/server-process.test.ts, test/burst-and-chaos.test.ts).
 */
interface Row {
  msg_id: string;
  endpoint_id: string;
  app_id: string;
  event_type: string;
  created_at: string;
}

function fakes(rows: Row[] = [], eager = false) {
  const starts: Array<{ id: string; resolved: boolean; resolve: () => void }> = [];
  const temporal = {
    workflow: {
      start: (_type: string, opts: { workflowId: string }) =>
        new Promise((resolve) => {
          const start = {
            id: opts.workflowId,
            resolved: false,
            resolve: () => {
              start.resolved = true;
              resolve({ eagerlyStarted: eager });
            },
          };
          starts.push(start);
        }),
    },
  };
  /** The msg ids of each dispatched_at stamp (one UPDATE per batch). */
  const stamps: string[][] = [];
  // Undispatched rows, paged as PostgreSQL would: by (created_at, msg_id, endpoint_id) after the given key.
  const execute = async (sql: string, params: unknown[]) => {
    if (sql.trim().startsWith('update deliveries d set dispatched_at')) {
      stamps.push(JSON.parse((params[0] as string).replace(/^\{(.*)\}$/, '[$1]')));
      return [];
    }
    if (!sql.trim().startsWith('select')) return [];
    const [, at, msg, ep, limit] = params as [number, string, string, string, number];
    const key = (r: Row) => [r.created_at, r.msg_id, r.endpoint_id].join('\u0000');
    const after = [at === '-infinity' ? '' : at, msg, ep].join('\u0000');
    return rows.filter((r) => key(r) > after).slice(0, limit);
  };
  const orm = { em: { getConnection: () => ({ execute }) } };
  return { starts, stamps, temporal, orm };
}

function dispatcher(
  f: ReturnType<typeof fakes>,
  opts: {
    concurrency: number;
    yieldAt?: number;
    eagerStart?: boolean;
    holdMaxMs?: number;
    limitOf?: (appId: string) => number | null;
  },
) {
  return new Dispatcher({
    orm: f.orm as never,
    temporal: f.temporal as never,
    taskQueue: 'q',
    schedule: [1],
    attemptTimeoutMs: 1000,
    log: { warn() {} } as never,
    ...opts,
  });
}

const ref = (n: number): DeliveryRef => ({
  msgId: `msg_${n}`,
  endpointId: 'ep_1',
  appId: 'app_1',
  eventType: 'invoice.paid',
});

/** Lets pending promise callbacks (and the batched dispatched_at stamp) run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await jest.advanceTimersByTimeAsync(25);
  }
}

describe('Dispatcher', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('admits one delivery at a time while the API is saturated with messages, then all it may', async () => {
    const f = fakes();
    const d = dispatcher(f, { concurrency: 4, yieldAt: 2 });
    let release!: () => void;
    const busy = new Promise<void>((r) => (release = r));
    // Two message requests in flight: saturated.
    const requests = [d.ingesting(() => busy), d.ingesting(() => busy)];
    d.enqueue([1, 2, 3, 4, 5, 6].map(ref));
    await settle();
    expect(f.starts).toHaveLength(1);
    f.starts[0].resolve();
    await settle();
    expect(f.starts).toHaveLength(2);
    release();
    await Promise.all(requests);
    // Still yielding for a second after the last saturated moment...
    expect(f.starts).toHaveLength(2);
    f.starts[1].resolve();
    await settle();
    expect(f.starts).toHaveLength(3);
    // ...then back to full concurrency, without another request to wake it.
    await jest.advanceTimersByTimeAsync(1000);
    await settle();
    expect(f.starts).toHaveLength(3 + 3);
  });

  it('yields 30 s at most to saturation that never lets up, then delivers at full speed as long', async () => {
    const f = fakes();
    const d = dispatcher(f, { concurrency: 4, yieldAt: 2 });
    let release!: () => void;
    const busy = new Promise<void>((r) => (release = r));
    const requests = [d.ingesting(() => busy), d.ingesting(() => busy)];
    // Every start answers at once: the queue drains as fast as the dispatcher admits.
    const answer = () => f.starts.forEach((s) => s.resolve());
    d.enqueue(Array.from({ length: 400 }, (_, n) => ref(n)));
    let atMostOne = true;
    for (let tick = 0; tick < 58; tick++) {
      // A new request arrives every half second while others are in flight: still saturated.
      requests.push(d.ingesting(() => busy));
      await settle();
      atMostOne &&= d.stats().inFlight <= 1;
      answer();
      await jest.advanceTimersByTimeAsync(375);
    }
    expect(atMostOne).toBe(true);
    requests.push(d.ingesting(() => busy));
    await jest.advanceTimersByTimeAsync(2000);
    await settle();
    // Past 30 s the spell ends, though requests keep coming: full concurrency again.
    requests.push(d.ingesting(() => busy));
    await settle();
    expect(d.stats().inFlight).toBe(4);
    answer();
    release();
    await Promise.all(requests);
  });

  it('never yields with yieldAt 0', async () => {
    const f = fakes();
    const d = dispatcher(f, { concurrency: 4, yieldAt: 0 });
    let release!: () => void;
    const busy = new Promise<void>((r) => (release = r));
    const requests = Array.from({ length: 10 }, () => d.ingesting(() => busy));
    d.enqueue([1, 2, 3, 4, 5, 6].map(ref));
    await settle();
    expect(f.starts).toHaveLength(4);
    release();
    await Promise.all(requests);
  });

  it('reconciles past the deliveries it still holds, and queues the rest for their turn', async () => {
    const rows: Row[] = [1, 2, 3, 4, 5].map((n) => ({
      msg_id: `msg_${n}`,
      endpoint_id: 'ep_1',
      app_id: 'app_1',
      event_type: 'invoice.paid',
      created_at: `2026-12-01 10:00:0${n}+00`,
    }));
    const f = fakes(rows);
    const d = dispatcher(f, { concurrency: 1 });
    // msg_1 is being started, msg_2 and msg_3 are queued behind it.
    d.enqueue([1, 2, 3].map(ref));
    await settle();
    expect(f.starts.map((s) => s.id)).toEqual(['deliver-msg_1-ep_1']);
    // Pages of two: the first is all held here, and the next pages still come. The two it did
    // not hold join the queue (it does not wait for their starts): nothing is started twice.
    expect(await d.reconcile(0, 2)).toBe(2);
    expect(d.stats().queued).toBe(4);
    for (let i = 0; i < 5; i++) {
      f.starts[i].resolve();
      await settle();
    }
    expect(f.starts.map((s) => s.id)).toEqual([1, 2, 3, 4, 5].map((n) => `deliver-msg_${n}-ep_1`));
    // Held again by nobody: a second pass queues what is still undispatched (the fake stamps nothing).
    expect(await d.reconcile(0, 2)).toBe(5);
  });

  describe('applications in turn', () => {
    const of = (app: string, n: number): DeliveryRef => ({ ...ref(n), msgId: `msg_${app}${n}`, appId: app });
    const started = (f: ReturnType<typeof fakes>) => f.starts.map((s) => /msg_(\w+)-ep/.exec(s.id)![1]);
    /** Answers every start as it comes, until the queue is empty. */
    async function drain(f: ReturnType<typeof fakes>, d: Dispatcher): Promise<void> {
      for (let i = 0; i < 100 && (d.stats().backlog > 0 || f.starts.some((s) => !s.resolved)); i++) {
        for (const s of f.starts.filter((s) => !s.resolved)) s.resolve();
        await settle();
      }
    }

    it("starts another application's message before one application's queued burst", async () => {
      const f = fakes();
      const d = dispatcher(f, { concurrency: 1 });
      d.enqueue(Array.from({ length: 5 }, (_, i) => of('A', i + 1)));
      d.enqueue([of('B', 1)]);
      await drain(f, d);
      // A had its turn (A1) before B came: B1 comes at the turn after, not after A5.
      expect(started(f)).toEqual(['A1', 'A2', 'B1', 'A3', 'A4', 'A5']);
    });

    it("queues the reconciler's rows of every application for their turn, not page by page", async () => {
      const rows: Row[] = [...[1, 2, 3, 4].map((n) => ({ app: 'A', n })), { app: 'B', n: 1 }].map(
        ({ app, n }, i) => ({
          msg_id: `msg_${app}${n}`,
          endpoint_id: 'ep_1',
          app_id: app,
          event_type: 'x',
          created_at: `2026-12-01 10:00:0${i}+00`,
        }),
      );
      const f = fakes(rows);
      const d = dispatcher(f, { concurrency: 1 });
      // Pages of two: B's row is on the last page, behind A's four older ones.
      expect(await d.reconcile(0, 2)).toBe(5);
      await drain(f, d);
      expect(started(f)).toEqual(['A1', 'A2', 'B1', 'A3', 'A4']);
    });

    it("takes a replay's deliveries in turn, after their own application's new messages", async () => {
      const f = fakes();
      const d = dispatcher(f, { concurrency: 1 });
      d.enqueue([of('A', 1)]);
      const replay = d.startReplays(
        [1, 2, 3].map((n) => ({ ref: of('A', 10 + n), workflowId: `replay-qtask_1-msg_A${10 + n}-ep_1` })),
        'qtask_1',
      );
      d.enqueue([of('A', 2), of('B', 1), of('B', 2)]);
      await drain(f, d);
      expect(await replay).toEqual([true, true, true]);
      // A's turn comes first (it was waiting first), and its new message goes before its replay.
      expect(started(f)).toEqual(['A1', 'A2', 'B1', 'A11', 'B2', 'A12', 'A13']);
    });

    it("counts an application's retries running here against its share of the places", async () => {
      const f = fakes();
      const d = dispatcher(f, { concurrency: 2 });
      // Two retries of A are being attempted on this process's worker: A holds both places' worth.
      d.attemptStarted('A', 'deliver-msg_A90-ep_1');
      d.attemptStarted('A', 'deliver-msg_A91-ep_1');
      d.enqueue([of('A', 1), of('A', 2), of('B', 1), of('B', 2)]);
      await settle();
      expect(started(f)).toEqual(['B1', 'B2']);
      expect(d.fairness()).toMatchObject({ waiting: 1, attemptsOutsidePlaces: 2 });
      d.attemptEnded('deliver-msg_A90-ep_1');
      d.attemptEnded('deliver-msg_A91-ep_1');
      await drain(f, d);
      expect(started(f)).toEqual(['B1', 'B2', 'A1', 'A2']);
      expect(d.fairness()).toMatchObject({ inFlight: 0, attemptsOutsidePlaces: 0 });
    });

    it('keeps an application to its limit, and starts the rest when its deliveries end', async () => {
      const f = fakes([], true);
      const d = dispatcher(f, {
        concurrency: 8,
        eagerStart: true,
        limitOf: (app) => (app === 'A' ? 2 : null),
      });
      d.enqueue([1, 2, 3, 4].map((n) => of('A', n)));
      await settle();
      expect(started(f)).toEqual(['A1', 'A2']);
      expect(d.fairness()).toMatchObject({ atLimit: 1, busiest: { inFlight: 2, waiting: 2 } });
      f.starts.forEach((s) => s.resolve());
      await settle();
      // Started eagerly: the places are held by the attempts, so the limit holds until one ends.
      expect(started(f)).toEqual(['A1', 'A2']);
      d.attemptStarted('A', 'deliver-msg_A1-ep_1');
      d.attemptEnded('deliver-msg_A1-ep_1', true);
      await settle();
      expect(started(f)).toEqual(['A1', 'A2', 'A3']);
    });

    it('keeps fewer places while applications take turns and the machine is busy; all of them for one alone', async () => {
      const f = fakes([], true);
      const d = dispatcher(f, { concurrency: 16, eagerStart: true });
      const ended = new Set<string>();
      /** Answers the starts, lets `ms` pass, then ends every attempt in flight (the receiver answered at once). */
      const round = async (ms: number) => {
        f.starts.forEach((s) => s.resolved || s.resolve());
        await jest.advanceTimersByTimeAsync(ms);
        for (const s of f.starts.filter((s) => !ended.has(s.id))) {
          ended.add(s.id);
          d.attemptEnded(s.id, true, 0);
        }
        await settle();
      };
      d.enqueue(Array.from({ length: 300 }, (_, i) => of(i % 2 ? 'B' : 'A', i)));
      await settle();
      expect(d.fairness().places).toBe(16);
      // One round where deliveries came through fast, then rounds where 16 in flight take ten times as long.
      await round(10);
      for (let i = 0; i < 4; i++) await round(300);
      const shared = d.fairness().places;
      expect(shared).toBeGreaterThanOrEqual(4);
      expect(shared).toBeLessThan(10);
      expect(d.stats().inFlight).toBeLessThanOrEqual(shared);
      // B's are done; A alone, once the turns are 5 s behind: every place again.
      for (let i = 0; i < 40 && d.stats().queued > 0; i++) await round(300);
      d.enqueue(Array.from({ length: 40 }, (_, i) => of('A', 1000 + i)));
      await round(5000);
      await round(10);
      expect(d.fairness().places).toBe(16);
      expect(d.stats().inFlight).toBe(16);
    });

    it('counts an attempt that outlasts its hold as in flight until it ends', async () => {
      const f = fakes([], true);
      const d = dispatcher(f, { concurrency: 8, eagerStart: true, holdMaxMs: 1000, limitOf: () => 1 });
      d.enqueue([of('A', 1), of('A', 2)]);
      await settle();
      d.attemptStarted('A', 'deliver-msg_A1-ep_1');
      f.starts[0].resolve();
      await settle();
      // The hold ends but the attempt goes on (a slow receiver): A stays at its limit of one.
      await jest.advanceTimersByTimeAsync(1000);
      await settle();
      expect(started(f)).toEqual(['A1']);
      expect(d.stats()).toMatchObject({ inFlight: 0, queued: 1 });
      d.attemptEnded('deliver-msg_A1-ep_1', true);
      await settle();
      expect(started(f)).toEqual(['A1', 'A2']);
    });
  });

  it('stops starting on shutdown and leaves what is queued to the reconciler', async () => {
    const f = fakes();
    const d = dispatcher(f, { concurrency: 1 });
    d.enqueue([1, 2, 3].map(ref));
    await settle();
    let stopped = false;
    const stopping = d.stop().then(() => (stopped = true));
    await settle();
    // Waits for the start under way, not for the queue.
    expect(stopped).toBe(false);
    f.starts[0].resolve();
    await settle();
    await stopping;
    d.enqueue([4].map(ref));
    await settle();
    expect(f.starts).toHaveLength(1);
    expect(d.stats()).toMatchObject({ queued: 0, inFlight: 0 });
  });
  describe('the dispatched_at stamp', () => {
    it('is batched for starts that ran elsewhere', async () => {
      const f = fakes();
      const d = dispatcher(f, { concurrency: 4 });
      d.enqueue([1, 2].map(ref));
      await settle();
      f.starts.forEach((s) => s.resolve());
      await settle();
      expect(f.stamps).toEqual([['msg_1', 'msg_2']]);
    });

    it('is left to the record of an eager first attempt, whenever the attempt ends', async () => {
      const f = fakes([], true);
      const d = dispatcher(f, { concurrency: 4, eagerStart: true });
      d.enqueue([1, 2].map(ref));
      await settle();
      // msg_1's attempt is recorded before its start returns, msg_2's after.
      d.attemptEnded('deliver-msg_1-ep_1', true);
      f.starts.forEach((s) => s.resolve());
      await settle();
      expect(d.stats().awaitingAttempt).toBe(1);
      d.attemptEnded('deliver-msg_2-ep_1', true);
      await settle();
      expect(f.stamps).toEqual([]);
      expect(d.stats()).toMatchObject({ inFlight: 0, awaitingAttempt: 0 });
    });

    it('is made by the dispatcher when the eager attempt was not recorded or is slow', async () => {
      const f = fakes([], true);
      const d = dispatcher(f, { concurrency: 4, eagerStart: true, holdMaxMs: 1000 });
      d.enqueue([1, 2, 3].map(ref));
      await settle();
      // msg_1: ended unrecorded before its start returned (e.g. throttled); msg_2: after.
      d.attemptEnded('deliver-msg_1-ep_1', false);
      f.starts.forEach((s) => s.resolve());
      await settle();
      d.attemptEnded('deliver-msg_2-ep_1', false);
      await settle();
      expect(f.stamps.flat().sort()).toEqual(['msg_1', 'msg_2']);
      // msg_3 is still sending after the hold: its place is given back and the start stamped.
      await jest.advanceTimersByTimeAsync(1000);
      await settle();
      expect(f.stamps.flat().sort()).toEqual(['msg_1', 'msg_2', 'msg_3']);
      expect(d.stats()).toMatchObject({ inFlight: 0, awaitingAttempt: 0 });
      // Its record comes later and changes nothing here.
      d.attemptEnded('deliver-msg_3-ep_1', true);
      await settle();
      expect(f.stamps.flat()).toHaveLength(3);
    });
    it('is written before stop() resolves: the database closes next', async () => {
      const f = fakes([], true);
      const d = dispatcher(f, { concurrency: 4, eagerStart: true });
      d.enqueue([1, 2].map(ref));
      await settle();
      f.starts.forEach((s) => s.resolve());
      await settle();
      // msg_1's attempt ended unrecorded (its stamp waits for the batch); msg_2's is still held.
      d.attemptEnded('deliver-msg_1-ep_1', false);
      await d.stop();
      expect(f.stamps.flat().sort()).toEqual(['msg_1', 'msg_2']);
      expect(d.stats()).toMatchObject({ inFlight: 0, awaitingAttempt: 0 });
    });
  });
});
