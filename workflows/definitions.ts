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
   * The attempt runs as local-activity steps (send, record, lifecycle) in the workflow task.
   * Every start sets it; deliveries started before it existed run the one `attempt` activity.
   */
  localAttempt?: boolean;
}

export interface DeliverMessageResult {
  status: DeliveryStatus;
  attempts: number;
}

/** One workflow per (message, endpoint) for the first dispatch: a repeated start is a no-op. */
export function deliveryWorkflowId(msgId: string, endpointId: string): string {
  return `deliver-${msgId}-${endpointId}`;
}
