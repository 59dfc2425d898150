import type { Client } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import type { Orm } from '../db/orm';
import { textArray } from '../db/sql';
import type { Logger } from '../logger';
import { metrics } from '../metrics';
import { FairQueue, type FairnessSnapshot } from './fair-queue';
import { DepthLimit } from './depth-limit';
import {
  SA,
  deliveryWorkflowId,
  type DeliverMessageInput,
  type DeliverMessageWorkflow,
  type Trigger,
} from '../../workflows/definitions';

export interface DeliveryRef {
  msgId: string;
  endpointId: string;
  appId: string;
  eventType: string;
}

/** How long the dispatcher keeps yielding after the API was last saturated. */
const YIELD_HOLD_MS = 1000;
/** The longest spell of yielding, and the full-speed spell that follows one that long. */
const YIELD_MAX_MS = 30_000;
/** How long after two applications last took turns the places stay at the depth limit. */
const SHARED_HOLD_MS = 5_000;

const keyOf = (ref: DeliveryRef) => `${ref.msgId} ${ref.endpointId}`;

/**
 * Temporal's task-queue priority (1 first … 5 last; 3 is the default): replays after first
 * deliveries, resends and Hookflow's own workflows. Every workflow task of a delivery has its
 * workflow's priority, retries included (docs/design.md, "Fairness across applications").
 */
const PRIORITY: Record<Trigger, number> = { scheduled: 3, manual: 3, replay: 4 };

/** A start waiting in the fair queue. */
interface Entry {
  ref: DeliveryRef;
  workflowId: string;
  trigger: 'scheduled' | 'replay';
  replayTaskId?: string;
  /** A replay waits for its start's outcome; a scheduled delivery's failure is left to the reconciler. */
  settle?: { resolve(started: StartOutcome): void; reject(err: unknown): void };
}

/** `'eager'`: started, its first task handed to this process's worker; true: started; false: the id was taken. */
export type StartOutcome = 'eager' | true | false;

/** A delivery's place in flight: released when its start returns, or for an eager start when its attempt ends. */
interface Place {
  entry: Entry;
  /** When it was admitted (performance.now()). */
  since: number;
  ended: boolean;
  /** The first attempt's record stamped `dispatched_at` itself (activities/record.ts). */
  recorded: boolean;
  /** Its attempt is under way on this process's worker (`attemptStarted`). */
  attempting: boolean;
  timer: NodeJS.Timeout | null;
}

export interface DispatcherOptions {
  orm: Orm;
  temporal: Client;
  taskQueue: string;
  schedule: number[];
  attemptTimeoutMs: number;
  log: Logger;
  /**
   * Deliveries in flight at once: from the start until, for a start that ran eagerly on
   * this process's worker, its first attempt ends (`attemptEnded`); otherwise until the start returns.
   */
  concurrency?: number;
  /** Deliveries kept in memory; past that the reconciler picks them up from PostgreSQL. */
  maxQueued?: number;
  /** Ask for eager start: only when `temporal` shares the connection of a worker on `taskQueue`. */
  eagerStart?: boolean;
  /**
   * The longest an eager delivery keeps its place waiting for its first attempt (1 s).
   * Receivers that answer within it free the place when they answer (the common case);
   * slower attempts run on in the worker's slots without holding up the deliveries behind.
   */
  holdMaxMs?: number;
  /**
   * Message requests in flight in this process from which the API counts as saturated: the
   * dispatcher then admits one delivery at a time, so a burst is stored at PostgreSQL speed
   * and delivered after it. 0: never.
   */
  yieldAt?: number;
  /** An application's hard limit on deliveries in flight (src/domain/app-limits.ts); null or absent: its fair share. */
  limitOf?: (appId: string) => number | null;
}

/**
 * Starts DeliverMessage workflows for deliveries already stored in PostgreSQL. The API
 * answers 202 once the rows are committed and hands them here; starts run in the
 * background with bounded concurrency, so ingest is not capped by Temporal's start rate.
 * A start that fails (Temporal down) leaves the row undispatched for the reconciler.
 */
export class Dispatcher {
  /** Starts waiting for a place, admitted across applications in turn (src/domain/fair-queue.ts). */
  private readonly queue: FairQueue<Entry>;
  private inFlight = 0;
  /**
   * Deliveries started eagerly whose first attempt runs on this process's worker, each
   * holding its place in `inFlight` until the attempt ends. Starting more than the worker
   * is sending would run it out of workflow-task slots (a local attempt holds its slot):
   * the server then refuses eager starts, and those deliveries wait in matching, finish
   * out of order and cost the server more (docs/design.md, "Admission").
   */
  private readonly running = new Map<string, Place>();
  /**
   * Attempts running on this process's worker that hold no place (retries, replays past their
   * hold, deliveries started elsewhere), by workflow id → application: they count against
   * their application's share of the places, so its retry wave is admitted in turn too.
   */
  private readonly attempts = new Map<string, string>();
  /** Queued or being started here (`msgId endpointId`): the reconciler leaves them alone. */
  private readonly pending = new Set<string>();
  /** Message requests being handled by this process's API (`ingesting`). */
  private ingestInFlight = 0;
  private idleWaiters: Array<() => void> = [];
  private readonly concurrency: number;
  private readonly maxQueued: number;
  /** Deliveries left to the reconciler since start: the queue was full, or their start failed. */
  private readonly deferredCounts = { queueFull: 0, startFailed: 0 };
  /**
   * While applications share the dispatcher, places in flight are kept to what keeps the
   * machine busy (src/domain/depth-limit.ts): a message admitted at its turn then does not wait
   * behind a deep pipeline of another application's deliveries. Learnt from eager deliveries'
   * time in their place; one application alone keeps every place.
   */
  private readonly depth: DepthLimit;
  /** The application admitted last, and until when two busy ones have been taking turns. */
  private lastApp: string | null = null;
  private sharedUntil = -Infinity;

  constructor(private readonly opts: DispatcherOptions) {
    this.concurrency = opts.concurrency ?? 32;
    this.maxQueued = opts.maxQueued ?? 100_000;
    this.queue = new FairQueue({ places: this.concurrency, limitOf: opts.limitOf });
    this.depth = new DepthLimit({ max: this.concurrency });
  }

  /** Places this moment: one while the API is saturated, the depth limit while applications share. */
  private get places(): number {
    if (this.yielding) return 1;
    return performance.now() < this.sharedUntil ? this.depth.limit : this.concurrency;
  }

  get backlog(): number {
    return this.queue.size + this.inFlight;
  }

  /** What /api/v1/health/details shows of this process's dispatcher. */
  stats() {
    return {
      backlog: this.backlog,
      queued: this.queue.size,
      inFlight: this.inFlight,
      /** Of those in flight, eager starts waiting for their first attempt to end on this process's worker. */
      awaitingAttempt: this.held,
      maxQueued: this.maxQueued,
      deferredToReconciler: { ...this.deferredCounts },
    };
  }

  /** What health details and /metrics show of the fair queue: how many applications wait, are busy, are at their limit. */
  fairness(): FairnessSnapshot & { attemptsOutsidePlaces: number; places: number } {
    return {
      ...this.queue.snapshot(),
      attemptsOutsidePlaces: this.attempts.size,
      places: performance.now() < this.sharedUntil ? this.depth.limit : this.concurrency,
    };
  }

  /** Deliveries of new messages, stored undispatched: started in turn with every application's. */
  enqueue(refs: DeliveryRef[]): void {
    // Stopping: the rows are committed, and the reconciler starts them.
    if (this.stopped) return;
    for (const ref of refs) {
      if (this.queue.size >= this.maxQueued) {
        // Stored and undispatched: the reconciler starts it from PostgreSQL.
        this.deferredCounts.queueFull++;
        metrics.dispatchDeferred.inc({ reason: 'queue_full' });
        continue;
      }
      this.push(ref);
    }
    this.pump();
  }

  private push(ref: DeliveryRef): void {
    const workflowId = deliveryWorkflowId(ref.msgId, ref.endpointId);
    this.queue.push(ref.appId, { ref, workflowId, trigger: 'scheduled' });
    this.pending.add(keyOf(ref));
  }

  /** A scheduled delivery no longer held here: the reconciler may take its row again. */
  private unpend(entry: Entry): void {
    if (entry.trigger === 'scheduled') this.pending.delete(keyOf(entry.ref));
  }

  /**
   * A replay's deliveries (bulk replay, recover, replay-missing): started in turn with every
   * application's, after their own application's new messages. Resolves with each start's
   * outcome once all have one; rejects with the first failure (the activity is retried, and
   * the ids already started answer false).
   */
  async startReplays(
    items: Array<{ ref: DeliveryRef; workflowId: string }>,
    replayTaskId: string,
  ): Promise<StartOutcome[]> {
    if (this.stopped) throw new Error('Dispatcher stopped: the replay continues on another worker');
    const outcomes = items.map(
      ({ ref, workflowId }) =>
        new Promise<StartOutcome>((resolve, reject) =>
          this.queue.push(
            ref.appId,
            { ref, workflowId, trigger: 'replay', replayTaskId, settle: { resolve, reject } },
            'replay',
          ),
        ),
    );
    this.pump();
    const settled = await Promise.allSettled(outcomes);
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
    return settled.map((s) => (s as PromiseFulfilledResult<StartOutcome>).value);
  }

  /** Wraps the handling of one message request: while many are in flight, deliveries wait. */
  async ingesting<T>(handle: () => Promise<T>): Promise<T> {
    this.ingestInFlight++;
    if (this.opts.yieldAt && this.ingestInFlight >= this.opts.yieldAt) {
      const now = performance.now();
      if (now >= this.fullSpeedUntil) {
        this.saturatedAt = now;
        this.yieldingSince ??= now;
      }
    }
    try {
      return await handle();
    } finally {
      this.ingestInFlight--;
      if (!this.yielding) this.pump();
    }
  }

  /** When the API last had `yieldAt` message requests in flight (a monotonic clock). */
  private saturatedAt = -Infinity;
  /** When the current spell of yielding began. */
  private yieldingSince: number | null = null;
  /** After a spell of YIELD_MAX_MS, deliveries get as long at full speed. */
  private fullSpeedUntil = -Infinity;
  private resumeTimer: NodeJS.Timeout | null = null;

  /**
   * The API was saturated with messages within the last second: admit one delivery at a
   * time. (The count of requests in flight swings with every answer; a second of calm
   * ends the burst.) A timer resumes full speed when no request comes to call `pump`.
   * Saturation that lasts past YIELD_MAX_MS is load, not a burst: then deliveries get
   * full speed for as long again, so a producer that never lets up cannot starve them.
   */
  private get yielding(): boolean {
    const now = performance.now();
    const calmFor = now - this.saturatedAt;
    if (calmFor >= YIELD_HOLD_MS) {
      this.yieldingSince = null;
      return false;
    }
    if (this.yieldingSince !== null && now - this.yieldingSince >= YIELD_MAX_MS) {
      this.fullSpeedUntil = now + YIELD_MAX_MS;
      this.yieldingSince = null;
      this.saturatedAt = -Infinity;
      return false;
    }
    this.resumeTimer ??= setTimeout(() => {
      this.resumeTimer = null;
      this.pump();
    }, YIELD_HOLD_MS - calmFor).unref();
    return true;
  }

  /** Places in `running` whose start has returned (a timer is set): held until their attempt ends. */
  private get held(): number {
    let n = 0;
    for (const place of this.running.values()) if (place.timer) n++;
    return n;
  }

  /** Starts still to make or under way: what `idle` waits for (not the attempts they hold). */
  private get unstarted(): number {
    return this.queue.size + this.inFlight - this.held;
  }

  private stopped = false;

  /**
   * Shutdown: starts nothing more. What is still queued stays undispatched in PostgreSQL,
   * where the reconciler finds it; resolves once no start is under way and every start made
   * is stamped (the database closes next).
   */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const entry of this.queue.drain()) {
      this.unpend(entry);
      entry.settle?.reject(new Error('Dispatcher stopped: the replay continues on another worker'));
    }
    this.notifyIdle();
    await this.idle();
    // Attempts still held (their worker stopped first, or elsewhere): their starts are stamped now.
    for (const [workflowId, place] of [...this.running]) if (place.timer) this.attemptEnded(workflowId);
    await this.flushMarks();
    await Promise.all([...this.stamping]);
  }

  /** Resolves when nothing is queued or being started (tests, graceful shutdown). */
  idle(): Promise<void> {
    if (this.unstarted === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (this.inFlight < this.places && this.queue.size > 0) {
      // Null when every application waiting is at its limit: one of their deliveries ending pumps again.
      const next = this.queue.take();
      if (!next) break;
      const now = performance.now();
      if (next.appId !== this.lastApp) {
        // Taking turns: the one before still has deliveries waiting or in flight.
        if (this.lastApp !== null && this.queue.busy(this.lastApp)) this.sharedUntil = now + SHARED_HOLD_MS;
        this.lastApp = next.appId;
      }
      const entry = next.item;
      const { ref, workflowId } = entry;
      this.inFlight++;
      // Registered before the start: an eager start's attempt can begin, and end, before the
      // start's promise resolves here.
      const place: Place = {
        entry,
        since: now,
        ended: false,
        recorded: false,
        attempting: false,
        timer: null,
      };
      if (this.opts.eagerStart && !this.running.has(workflowId)) this.running.set(workflowId, place);
      this.startDelivery(ref, workflowId, entry.trigger, entry.replayTaskId)
        .then(async (started) => {
          entry.settle?.resolve(started);
          const held = started === 'eager' && this.running.get(workflowId) === place;
          // Started elsewhere (or already): stamp now. Started here: the attempt's end decides.
          if (!held) return this.stampOf(entry);
          if (place.ended) {
            if (!place.recorded) this.stampStarted(entry);
            return;
          }
          // Held until attemptEnded, or holdMaxMs at most: a slow endpoint must not hold
          // the dispatcher's places (nor, while it yields, its only one) for its whole timeout.
          place.timer = setTimeout(() => {
            if (this.running.get(workflowId) === place) this.giveBack(workflowId, place);
          }, this.opts.holdMaxMs ?? 1000);
          place.timer.unref();
          this.notifyIdle();
        })
        .catch((err) => {
          if (entry.settle) return entry.settle.reject(err);
          this.deferredCounts.startFailed++;
          metrics.dispatchDeferred.inc({ reason: 'start_failed' });
          this.opts.log.warn(
            { err: String(err), msgId: ref.msgId, endpointId: ref.endpointId },
            'dispatch deferred to reconciler',
          );
        })
        .finally(() => {
          // Held: the reconciler keeps leaving it alone until its attempt ends (attemptEnded).
          if (place.timer) return;
          this.unpend(entry);
          if (this.running.get(workflowId) === place) this.running.delete(workflowId);
          this.release(ref.appId);
        });
    }
  }

  private release(appId: string): void {
    this.inFlight--;
    this.queue.finished(appId);
    this.pump();
    this.notifyIdle();
  }

  private notifyIdle(): void {
    if (this.unstarted === 0) this.idleWaiters.splice(0).forEach((w) => w());
  }

  /**
   * Called by the attempt step of this process's worker when an attempt begins. A delivery
   * that holds a place counts through it; any other attempt (a retry, a replay past its hold)
   * counts against its application's share until it ends: an application's retry wave takes
   * its turns with everyone else's new messages.
   */
  attemptStarted(appId: string, workflowId: string): void {
    const place = this.running.get(workflowId);
    if (place && !place.ended) {
      place.attempting = true;
      return;
    }
    if (this.attempts.has(workflowId)) return;
    this.attempts.set(workflowId, appId);
    this.queue.started(appId);
  }

  /**
   * Called by the attempt step of this process's worker when an attempt ends (any outcome);
   * `recorded` when its record stamped `dispatched_at`. An eager start's first attempt that
   * was recorded needs no stamp of the dispatcher's own: in the common case a delivery's row
   * is updated once, by its record, not twice (docs/benchmarks-history.md, round 6). `httpMs`: the time
   * the receiver took to answer, left out of the time in place the depth limit learns from.
   */
  attemptEnded(workflowId: string, recorded = false, httpMs?: number): void {
    const appId = this.attempts.get(workflowId);
    if (appId !== undefined) {
      this.attempts.delete(workflowId);
      this.queue.finished(appId);
      this.pump();
    }
    const place = this.running.get(workflowId);
    if (!place) return;
    if (!place.ended && httpMs !== undefined) {
      const now = performance.now();
      this.depth.observe(now - place.since - httpMs, this.inFlight, now);
    }
    place.ended = true;
    place.recorded = recorded;
    if (!place.timer) return; // the start has not returned yet: its own callbacks stamp and release
    this.giveBack(workflowId, place);
  }

  /** A held place ends: its attempt ended, or it outlasted holdMaxMs (then the attempt counts on by itself). */
  private giveBack(workflowId: string, place: Place): void {
    clearTimeout(place.timer!);
    this.running.delete(workflowId);
    const { ref } = place.entry;
    this.unpend(place.entry);
    if (!place.ended && place.attempting) {
      this.attempts.set(workflowId, ref.appId);
      this.queue.started(ref.appId);
    }
    this.release(ref.appId);
    // Throttled, cancelled, slower than holdMaxMs, or not recorded yet: the start happened, say so.
    if (!place.recorded) this.stampStarted(place.entry);
  }

  /** Stamps made after an eager start's attempt ended, until they are written (`stop` waits for them). */
  private readonly stamping = new Set<Promise<void>>();

  /** A scheduled delivery's start is stamped on its row; a replay's row (if any) is the replay's to write. */
  private stampOf(entry: Entry): Promise<void> | undefined {
    return entry.trigger === 'scheduled' ? this.markDispatched(entry.ref, entry.workflowId) : undefined;
  }

  /** Stamps a start whose first attempt ended unrecorded; if that fails, the reconciler's no-op start stamps it. */
  private stampStarted(entry: Entry): void {
    const stamp = this.stampOf(entry)?.catch((err) =>
      this.opts.log.warn(
        { err: String(err), msgId: entry.ref.msgId, endpointId: entry.ref.endpointId },
        'dispatched_at not stamped; the reconciler finds the delivery already started',
      ),
    );
    if (!stamp) return;
    this.stamping.add(stamp);
    void stamp.finally(() => this.stamping.delete(stamp));
  }

  private marks: Array<{ ref: DeliveryRef; workflowId: string; done: (err?: unknown) => void }> = [];
  private flushTimer: NodeJS.Timeout | null = null;

  /**
   * Stamps `dispatched_at` in batches: one UPDATE for many starts instead of one commit each.
   * The stamp only keeps the reconciler from repeating a start, which would be a no-op anyway.
   */
  private markDispatched(ref: DeliveryRef, workflowId: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.marks.push({ ref, workflowId, done: (err) => (err ? reject(err) : resolve()) });
      if (this.marks.length >= 200) void this.flushMarks();
      else this.flushTimer ??= setTimeout(() => void this.flushMarks(), 20);
    });
  }

  private async flushMarks(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    const batch = this.marks.splice(0);
    if (batch.length === 0) return;
    try {
      await this.opts.orm.em.getConnection().execute(
        `update deliveries d set dispatched_at = now(), workflow_id = v.wf
           from (select unnest(?::text[]) as msg, unnest(?::text[]) as ep, unnest(?::text[]) as wf) v
          where d.msg_id = v.msg and d.endpoint_id = v.ep and d.dispatched_at is null`,
        [
          textArray(batch.map((b) => b.ref.msgId)),
          textArray(batch.map((b) => b.ref.endpointId)),
          textArray(batch.map((b) => b.workflowId)),
        ],
      );
      batch.forEach((b) => b.done());
    } catch (err) {
      batch.forEach((b) => b.done(err));
    }
  }

  /**
   * Starts one DeliverMessage workflow; an id already used is treated as started (false).
   * `'eager'`: the server handed the first workflow task to this process's worker. The
   * application is the fairness key of every task of the delivery on Temporal's task queue.
   */
  async startDelivery(
    ref: DeliveryRef,
    workflowId: string,
    trigger: Trigger,
    replayTaskId?: string,
  ): Promise<StartOutcome> {
    const input: DeliverMessageInput = {
      ...ref,
      trigger,
      schedule: this.opts.schedule,
      attemptTimeoutMs: this.opts.attemptTimeoutMs,
      quietFirstSuccess: true,
      localAttempt: true,
      failingStatus: true,
      ...(replayTaskId ? { replayTaskId } : {}),
    };
    try {
      // Typed by the workflow's signature (a type import: no workflow code in this process).
      const handle = await this.opts.temporal.workflow.start<DeliverMessageWorkflow>('DeliverMessage', {
        taskQueue: this.opts.taskQueue,
        requestEagerStart: this.opts.eagerStart,
        workflowId,
        args: [input],
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        priority: { fairnessKey: ref.appId, priorityKey: PRIORITY[trigger] },
        typedSearchAttributes: [
          { key: SA.app, value: ref.appId },
          { key: SA.endpoint, value: ref.endpointId },
          { key: SA.message, value: ref.msgId },
          { key: SA.eventType, value: ref.eventType },
          { key: SA.trigger, value: trigger },
          // No HookflowStatus or HookflowAttemptCount: written from the first failed attempt on
          // (failingStatus), so a first-attempt success, which writes nothing, leaves no lie.
        ],
        staticSummary: `${ref.eventType} → ${ref.endpointId} (${trigger})`,
      });
      metrics.workflowStarts.inc({ eager: String(handle.eagerlyStarted) });
      return handle.eagerlyStarted ? 'eager' : true;
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) return false;
      throw err;
    }
  }

  /**
   * Hands every stored delivery that was never started (Temporal was down, the process died
   * between the insert and the start, the queue was full) to the fair queue, where it is
   * started in turn with every application's: a page of one application's old rows never
   * holds up another's. Older than `graceSeconds`, so the reconciler does not race the API's
   * own dispatch. Fills half the queue at most (the API keeps room for new messages); what
   * is left waits for the next pass. Returns how many it queued.
   */
  async reconcile(graceSeconds = 10, batch = 500): Promise<number> {
    let total = 0;
    // Keyset pages: rows skipped below stay undispatched, so the next page starts after them.
    let after: [string, string, string] = ['-infinity', '', ''];
    for (;;) {
      if (this.stopped || this.queue.size >= this.maxQueued / 2) return total;
      const rows: Array<{
        msg_id: string;
        endpoint_id: string;
        app_id: string;
        event_type: string;
        created_at: string;
      }> = await this.opts.orm.em.getConnection().execute(
        `select msg_id, endpoint_id, app_id, event_type, created_at::text as created_at from deliveries
          where dispatched_at is null and created_at < now() - (? * interval '1 second')
            and (created_at, msg_id, endpoint_id) > (?::timestamptz, ?, ?)
          order by created_at, msg_id, endpoint_id limit ?`,
        [graceSeconds, ...after, batch],
      );
      if (rows.length === 0) return total;
      const last = rows[rows.length - 1];
      after = [last.created_at, last.msg_id, last.endpoint_id];
      for (const r of rows) {
        const ref = { msgId: r.msg_id, endpointId: r.endpoint_id, appId: r.app_id, eventType: r.event_type };
        // Those this process's dispatcher still holds are started by it, in their turn.
        if (this.pending.has(keyOf(ref))) continue;
        this.push(ref);
        total++;
      }
      this.pump();
      if (rows.length < batch) return total;
    }
  }

  /**
   * Deliveries terminated, cancelled or timed out in Temporal (e.g. from Web UI) never ran
   * their own bookkeeping: record them as cancelled. Looks back over a window so each
   * closed workflow is seen by a few passes, whichever worker runs them.
   */
  async reconcileClosed(lookbackMinutes = 60): Promise<number> {
    const since = new Date(Date.now() - lookbackMinutes * 60_000).toISOString();
    const query =
      `WorkflowType = 'DeliverMessage' AND ExecutionStatus IN ('Terminated', 'Canceled', 'TimedOut') ` +
      // Unset (no attempt failed yet), 'failing' (waiting for a retry), or 'pending' for deliveries started before failingStatus.
      `AND (HookflowStatus IS NULL OR HookflowStatus IN ('failing', 'pending')) AND CloseTime > '${since}'`;
    let count = 0;
    for await (const wf of this.opts.temporal.workflow.list({ query })) {
      const rows: unknown[] = await this.opts.orm.em.getConnection().execute(
        `update deliveries set state = 'cancelled', next_attempt_at = null, updated_at = now()
            where workflow_id = ? and state in ('pending', 'sending') returning msg_id`,
        [wf.workflowId],
      );
      count += rows.length;
    }
    return count;
  }
}
