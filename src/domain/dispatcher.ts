import type { Client } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import type { Orm } from '../db/orm';
import { textArray } from '../db/sql';
import type { Logger } from '../logger';
import { metrics } from '../metrics';
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

const keyOf = (ref: DeliveryRef) => `${ref.msgId} ${ref.endpointId}`;

/** A delivery's place in flight: released when its start returns, or for an eager start when its attempt ends. */
interface Place {
  ref: DeliveryRef;
  ended: boolean;
  /** The first attempt's record stamped `dispatched_at` itself (activities/record.ts). */
  recorded: boolean;
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
}

/**
 * Starts DeliverMessage workflows for deliveries already stored in PostgreSQL. The API
 * answers 202 once the rows are committed and hands them here; starts run in the
 * background with bounded concurrency, so ingest is not capped by Temporal's start rate.
 * A start that fails (Temporal down) leaves the row undispatched for the reconciler.
 */
export class Dispatcher {
  private readonly queue: DeliveryRef[] = [];
  private inFlight = 0;
  /**
   * Deliveries started eagerly whose first attempt runs on this process's worker, each
   * holding its place in `inFlight` until the attempt ends. Starting more than the worker
   * is sending would run it out of workflow-task slots (a local attempt holds its slot):
   * the server then refuses eager starts, and those deliveries wait in matching, finish
   * out of order and cost the server more (docs/design.md, "Admission").
   */
  private readonly running = new Map<string, Place>();
  /** Queued or being started here (`msgId endpointId`): the reconciler leaves them alone. */
  private readonly pending = new Set<string>();
  /** Message requests being handled by this process's API (`ingesting`). */
  private ingestInFlight = 0;
  private idleWaiters: Array<() => void> = [];
  private readonly concurrency: number;
  private readonly maxQueued: number;
  /** Deliveries left to the reconciler since start: the queue was full, or their start failed. */
  private readonly deferredCounts = { queueFull: 0, startFailed: 0 };

  constructor(private readonly opts: DispatcherOptions) {
    this.concurrency = opts.concurrency ?? 32;
    this.maxQueued = opts.maxQueued ?? 100_000;
  }

  get backlog(): number {
    return this.queue.length + this.inFlight;
  }

  /** What /api/v1/health/details shows of this process's dispatcher. */
  stats() {
    return {
      backlog: this.backlog,
      queued: this.queue.length,
      inFlight: this.inFlight,
      /** Of those in flight, eager starts waiting for their first attempt to end on this process's worker. */
      awaitingAttempt: this.held,
      maxQueued: this.maxQueued,
      deferredToReconciler: { ...this.deferredCounts },
    };
  }

  enqueue(refs: DeliveryRef[]): void {
    // Stopping: the rows are committed, and the reconciler starts them.
    if (this.stopped) return;
    for (const ref of refs) {
      if (this.queue.length >= this.maxQueued) {
        // Stored and undispatched: the reconciler starts it from PostgreSQL.
        this.deferredCounts.queueFull++;
        metrics.dispatchDeferred.inc({ reason: 'queue_full' });
        continue;
      }
      this.queue.push(ref);
      this.pending.add(keyOf(ref));
    }
    this.pump();
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
    return this.queue.length + this.inFlight - this.held;
  }

  private stopped = false;

  /**
   * Shutdown: starts nothing more. What is still queued stays undispatched in PostgreSQL,
   * where the reconciler finds it; resolves once no start is under way and every start made
   * is stamped (the database closes next).
   */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const ref of this.queue.splice(0)) this.pending.delete(keyOf(ref));
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
    while (this.inFlight < (this.yielding ? 1 : this.concurrency) && this.queue.length > 0) {
      const ref = this.queue.shift()!;
      this.inFlight++;
      // Registered before the start: an eager start's attempt can end before the start's
      // promise resolves here.
      const workflowId = deliveryWorkflowId(ref.msgId, ref.endpointId);
      const place: Place = { ref, ended: false, recorded: false, timer: null };
      if (this.opts.eagerStart && !this.running.has(workflowId)) this.running.set(workflowId, place);
      this.startDelivery(ref, workflowId, 'scheduled')
        .then(async (started) => {
          const held = started === 'eager' && this.running.get(workflowId) === place;
          // Started elsewhere (or already): stamp now. Started here: the attempt's end decides.
          if (!held) return this.markDispatched(ref, workflowId);
          if (place.ended) {
            if (!place.recorded) this.stampStarted(ref, workflowId);
            return;
          }
          // Held until attemptEnded, or holdMaxMs at most: a slow endpoint must not hold
          // the dispatcher's places (nor, while it yields, its only one) for its whole timeout.
          place.timer = setTimeout(() => this.attemptEnded(workflowId), this.opts.holdMaxMs ?? 1000);
          place.timer.unref();
          this.notifyIdle();
        })
        .catch((err) => {
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
          this.pending.delete(keyOf(ref));
          if (this.running.get(workflowId) === place) this.running.delete(workflowId);
          this.release();
        });
    }
  }

  private release(): void {
    this.inFlight--;
    this.pump();
    this.notifyIdle();
  }

  private notifyIdle(): void {
    if (this.unstarted === 0) this.idleWaiters.splice(0).forEach((w) => w());
  }

  /**
   * Called by the attempt step of this process's worker when an attempt ends (any outcome);
   * `recorded` when its record stamped `dispatched_at`. An eager start's first attempt that
   * was recorded needs no stamp of the dispatcher's own: in the common case a delivery's row
   * is updated once, by its record, not twice (BENCHMARKS.md, round 6).
   */
  attemptEnded(workflowId: string, recorded = false): void {
    const place = this.running.get(workflowId);
    if (!place) return;
    place.ended = true;
    place.recorded = recorded;
    if (!place.timer) return; // the start has not returned yet: its own callbacks stamp and release
    clearTimeout(place.timer);
    this.running.delete(workflowId);
    this.pending.delete(keyOf(place.ref));
    this.release();
    // Throttled, cancelled, slower than holdMaxMs, or not recorded yet: the start happened, say so.
    if (!recorded) this.stampStarted(place.ref, workflowId);
  }

  /** Stamps made after an eager start's attempt ended, until they are written (`stop` waits for them). */
  private readonly stamping = new Set<Promise<void>>();

  /** Stamps a start whose first attempt ended unrecorded; if that fails, the reconciler's no-op start stamps it. */
  private stampStarted(ref: DeliveryRef, workflowId: string): void {
    const stamp = this.markDispatched(ref, workflowId).catch((err) =>
      this.opts.log.warn(
        { err: String(err), msgId: ref.msgId, endpointId: ref.endpointId },
        'dispatched_at not stamped; the reconciler finds the delivery already started',
      ),
    );
    this.stamping.add(stamp);
    void stamp.finally(() => this.stamping.delete(stamp));
  }

  /** The first delivery of a message to an endpoint: deterministic id, so a repeat is a no-op. */
  async startFirstDelivery(ref: DeliveryRef): Promise<void> {
    const workflowId = deliveryWorkflowId(ref.msgId, ref.endpointId);
    await this.startDelivery(ref, workflowId, 'scheduled');
    await this.markDispatched(ref, workflowId);
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
   * `'eager'`: the server handed the first workflow task to this process's worker.
   */
  async startDelivery(
    ref: DeliveryRef,
    workflowId: string,
    trigger: Trigger,
    replayTaskId?: string,
  ): Promise<'eager' | true | false> {
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
   * Starts every stored delivery that was never started (Temporal was down, or the
   * process died between the insert and the start). Older than `graceSeconds`, so the
   * reconciler does not race the API's own dispatch.
   */
  async reconcile(graceSeconds = 10, batch = 500): Promise<number> {
    let total = 0;
    // Keyset pages: rows skipped below stay undispatched, so the next page starts after them.
    let after: [string, string, string] = ['-infinity', '', ''];
    for (;;) {
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
      // Those this process's dispatcher still holds are started by it, in its order.
      const refs = rows
        .map((r) => ({
          msgId: r.msg_id,
          endpointId: r.endpoint_id,
          appId: r.app_id,
          eventType: r.event_type,
        }))
        .filter((ref) => !this.pending.has(keyOf(ref)));
      // Bounded parallelism within a batch; errors propagate so the activity retries.
      for (let i = 0; i < refs.length; i += 16) {
        await Promise.all(refs.slice(i, i + 16).map((ref) => this.startFirstDelivery(ref)));
      }
      total += refs.length;
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
