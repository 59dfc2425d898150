/**
 * Signals, queries, search attributes and the shapes they carry, shared by workflows,
 * activities and the API. Only Temporal's own definitions are imported here, so the
 * module is safe inside the workflow sandbox and cheap everywhere else.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const endpointDisabledSignal = defineSignal<[{ reason: string }?]>('endpointDisabled');
export const retryNowSignal = defineSignal('retryNow');
export const cancelReplaySignal = defineSignal('cancelReplay');

export interface AttemptSummary {
  attemptId: string | null;
  attemptNumber: number;
  outcome: AttemptOutcome;
  statusCode: number;
  durationMs: number;
  at: string;
  error?: string;
}
export const attemptsQuery = defineQuery<AttemptSummary[]>('attempts');

export interface ReplayProgress {
  matched: number;
  started: number;
  skipped: number;
  pages: number;
  done: boolean;
  cancelled: boolean;
}
export const progressQuery = defineQuery<ReplayProgress>('progress');

export type { AttemptOutcome } from '../src/domain/outcome';
import type { AttemptOutcome } from '../src/domain/outcome';

export type DeliveryStatus = 'pending' | 'sending' | 'success' | 'failed' | 'cancelled';

/**
 * What `HookflowStatus` says (docs/operations.md). Unset until an attempt fails: a delivery
 * that succeeds at once never has one (its execution status, Completed, says it). 'failing':
 * its last attempt failed and it waits for the next; 'pending' is what deliveries started
 * before `failingStatus` say instead (they were started with it).
 */
export type VisibleStatus = 'failing' | 'pending' | 'success' | 'failed' | 'cancelled';

export const SA = {
  app: defineSearchAttributeKey('HookflowApp', SearchAttributeType.KEYWORD),
  endpoint: defineSearchAttributeKey('HookflowEndpoint', SearchAttributeType.KEYWORD),
  message: defineSearchAttributeKey('HookflowMessage', SearchAttributeType.KEYWORD),
  eventType: defineSearchAttributeKey('HookflowEventType', SearchAttributeType.KEYWORD),
  status: defineSearchAttributeKey('HookflowStatus', SearchAttributeType.KEYWORD),
  trigger: defineSearchAttributeKey('HookflowTrigger', SearchAttributeType.KEYWORD),
  attemptCount: defineSearchAttributeKey('HookflowAttemptCount', SearchAttributeType.INT),
  lastHttpStatus: defineSearchAttributeKey('HookflowLastHttpStatus', SearchAttributeType.INT),
  nextAttemptAt: defineSearchAttributeKey('HookflowNextAttemptAt', SearchAttributeType.DATETIME),
} as const;

/** Name → Temporal CLI type name, for `temporal server start-dev --search-attribute`. */
export const searchAttributeCliTypes: Record<string, string> = {
  HookflowApp: 'Keyword',
  HookflowEndpoint: 'Keyword',
  HookflowMessage: 'Keyword',
  HookflowEventType: 'Keyword',
  HookflowStatus: 'Keyword',
  HookflowTrigger: 'Keyword',
  HookflowAttemptCount: 'Int',
  HookflowLastHttpStatus: 'Int',
  HookflowNextAttemptAt: 'Datetime',
};

export type Trigger = 'scheduled' | 'manual' | 'replay';

export interface DeliverMessageInput {
  appId: string;
  msgId: string;
  endpointId: string;
  eventType: string;
  trigger: Trigger;
  /** Seconds between attempts; its length + 1 is the number of attempts. Fixed at start. */
  schedule: number[];
  /** Upper bound of one attempt (HTTP timeout plus database work); a worker that dies mid-attempt is noticed after it. */
  attemptTimeoutMs?: number;
  replayTaskId?: string;
  /**
   * A first-attempt success leaves the search attributes as they were at start. Every start
   * sets it; deliveries started before it existed lack it and keep upserting (so they replay).
   */
  quietFirstSuccess?: boolean;
  /**
   * Started without `HookflowStatus` and `HookflowAttemptCount` (they are written from the
   * first failed attempt on, so a first-attempt success leaves nothing untrue behind), and a
   * delivery waiting for its retry says 'failing'. Every start sets it; deliveries started
   * before it were started as 'pending' with count 0 and say 'pending' while they wait.
   */
  failingStatus?: boolean;
  /**
   * The attempt runs as local-activity steps (send, record, lifecycle) in the workflow task.
   * Every start sets it; deliveries started before it existed run the one `attempt` activity.
   */
  localAttempt?: boolean;
}

export interface DeliverMessageResult {
  status: DeliveryStatus;
  attempts: number;
}

/** The workflow's signature, for clients that start it by name (the dispatcher). */
export type DeliverMessageWorkflow = (input: DeliverMessageInput) => Promise<DeliverMessageResult>;

/**
 * What one try at the endpoint came to. Whatever the receiver answers is a `sent` or
 * `failed` result, never an exception: only our own infrastructure (PostgreSQL) makes this
 * step throw, and then it is retried. The response is already safe to store.
 */
export type SendOutcome =
  | {
      kind: 'sent';
      url: string;
      statusCode: number;
      retryAfterSeconds: number | null;
      response: string;
      responseTruncated: boolean;
      durationMs: number;
      at: string;
    }
  | { kind: 'failed'; url: string; errorKind: string; error: string; durationMs: number; at: string }
  /** A configuration error of ours (a secret the key cannot open, a template that fails). */
  | { kind: 'misconfigured'; url: string; error: string; at: string }
  /** Message gone, content pruned, endpoint disabled or deleted: nothing to send. */
  | { kind: 'cancelled'; reason: string }
  /** The endpoint's throttle slot is this far away: wait (durably) and call again with slotReserved. */
  | { kind: 'wait'; waitMs: number };

export interface RecordResult {
  attemptId: string;
  /** This attempt ended the endpoint's failing streak (a `message.attempt.recovered` is due). */
  endedFailingStreak: boolean;
}

/** One workflow per (message, endpoint) for the first dispatch: a repeated start is a no-op. */
export function deliveryWorkflowId(msgId: string, endpointId: string): string {
  return `deliver-${msgId}-${endpointId}`;
}

export interface AttemptResult {
  summary: AttemptSummary;
  /** Seconds to wait before the next attempt; null when none will follow. */
  waitSeconds: number | null;
}

/** What a deletion removes: an application with everything under it, or one endpoint's rows. */
export interface DeletionScope {
  appId: string;
  /** Set when an endpoint is deleted (its row is already gone); absent for an application. */
  endpointId?: string;
}

export interface PruneResult {
  /** Messages whose payload was removed. */
  payloads: number;
  /** Expired idempotency records deleted. */
  idempotencyRecords: number;
}

/** An application's retention window: messages with an id below `cutoff` are past it. */
export interface RetentionApp {
  id: string;
  cutoff: string;
}
