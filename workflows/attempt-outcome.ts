import { decide, MISCONFIGURED, type Decision } from '../src/domain/outcome';
import type { AttemptSummary, RecordResult, SendOutcome } from './definitions';

/** A send that reached the network, failed on the way, or could not build its request. */
export type Attempted = Extract<SendOutcome, { kind: 'sent' | 'failed' | 'misconfigured' }>;

/** The decision for an attempt: the workflow and the one-activity attempt share it. */
export function decisionFor(sent: Attempted, nextDelaySeconds: number | null): Decision {
  if (sent.kind === 'misconfigured') return MISCONFIGURED;
  return decide(
    sent.kind === 'sent'
      ? { statusCode: sent.statusCode, retryAfterSeconds: sent.retryAfterSeconds }
      : { errorKind: sent.errorKind },
    nextDelaySeconds,
  );
}

/** The attempt as the workflow's `attempts` query shows it. */
export function summarize(
  attemptId: string,
  attemptNumber: number,
  sent: Attempted,
  decision: Decision,
): AttemptSummary {
  return {
    attemptId,
    attemptNumber,
    outcome: decision.outcome,
    statusCode: sent.kind === 'sent' ? sent.statusCode : 0,
    durationMs: sent.kind === 'misconfigured' ? 0 : sent.durationMs,
    at: sent.at,
    ...(sent.kind === 'sent' ? {} : { error: sent.error }),
  };
}

/** Whether an attempt has consequences beyond its own row (the lifecycle step): most successes have none. */
export function needsLifecycle(decision: Decision, endedFailingStreak: boolean): boolean {
  return decision.outcome !== 'success' || endedFailingStreak;
}

/** The lifecycle step's view of an attempt. */
export function lifecycleOf(sent: Attempted, recorded: RecordResult) {
  return {
    endedFailingStreak: recorded.endedFailingStreak,
    reason: sent.kind === 'misconfigured' ? sent.error : undefined,
  };
}

/** An attempt that found nothing to send (message or endpoint gone). */
export function cancelledSummary(attemptNumber: number, reason: string, at: Date): AttemptSummary {
  return {
    attemptId: null,
    attemptNumber,
    outcome: 'cancelled',
    statusCode: 0,
    durationMs: 0,
    at: at.toISOString(),
    error: reason,
  };
}
