import { setTimeout as sleep } from 'node:timers/promises';
import type { AttemptResult, DeliverMessageInput } from '../workflows/definitions';
import type { Trigger } from '../workflows/definitions';
import {
  cancelledSummary,
  decisionFor,
  lifecycleOf,
  needsLifecycle,
  summarize,
  type Attempted,
} from '../workflows/attempt-outcome';
import type { ActivityDeps } from './deps';
import { makeAfterAttempt } from './lifecycle';
import { makeRecord, type RecordResult } from './record';
import { makeSend, type SendInput, type SendOutcome } from './send';

export type { AttemptResult };

export interface AttemptInput extends DeliverMessageInput {
  attemptNumber: number;
  workflowId: string;
  /** The jittered delay before the next attempt; null when this is the last one. */
  nextDelaySeconds: number | null;
}

export interface StepInput extends SendInput {
  eventType: string;
  trigger: Trigger;
  /** The jittered delay before the next attempt; null when this is the last one. */
  nextDelaySeconds: number | null;
}

/** What the attempt step did: nothing to send, a slot to wait for, or an attempt made. */
export type StepResult =
  | Extract<SendOutcome, { kind: 'wait' | 'cancelled' }>
  | {
      kind: 'attempted';
      sent: Attempted;
      /** Null when the record failed (PostgreSQL down): the workflow runs the record step itself. */
      recorded: RecordResult | null;
      /** False when the lifecycle was due and failed: the workflow runs it itself. */
      lifecycleDone: boolean;
    };

/**
 * Send, then record and lifecycle in the same local activity when they succeed: one marker
 * and one workflow activation per attempt, the fewest Temporal steps an attempt can take.
 * A record or lifecycle that fails does not fail the step (that would POST again on retry):
 * it comes back as not done, and the workflow runs that step on its own until it succeeds.
 */
export function makeAttemptStep(deps: ActivityDeps) {
  const send = makeSend(deps);
  const record = makeRecord(deps);
  const afterAttempt = makeAfterAttempt(deps);

  return async function attemptStep(input: StepInput): Promise<StepResult> {
    const sent = await send(input);
    if (sent.kind === 'wait' || sent.kind === 'cancelled') return sent;
    const decision = decisionFor(sent, input.nextDelaySeconds);
    let recorded: RecordResult;
    try {
      recorded = await record({ ...input, sent, decision });
    } catch (err) {
      deps.log.warn(
        { err: String(err), workflowId: input.workflowId, attemptNumber: input.attemptNumber },
        'attempt sent; its record is retried on its own',
      );
      return { kind: 'attempted', sent, recorded: null, lifecycleDone: false };
    }
    const kept = forHistory(sent);
    if (!needsLifecycle(decision, recorded.endedFailingStreak))
      return { kind: 'attempted', sent: kept, recorded, lifecycleDone: true };
    try {
      await afterAttempt({ ...input, decision, ...lifecycleOf(sent, recorded) });
      return { kind: 'attempted', sent: kept, recorded, lifecycleDone: true };
    } catch (err) {
      deps.log.warn(
        { err: String(err), workflowId: input.workflowId, attemptNumber: input.attemptNumber },
        'attempt recorded; its lifecycle step is retried on its own',
      );
      return { kind: 'attempted', sent: kept, recorded, lifecycleDone: false };
    }
  };
}

/**
 * What the workflow's history keeps of an attempt already recorded: not the URL (it may
 * carry a token) nor the response body, which Web UI would show and every replay would
 * carry; the attempt row has both. An attempt not yet recorded keeps them for its record step.
 */
function forHistory(sent: Attempted): Attempted {
  return sent.kind === 'sent' ? { ...sent, url: '', response: '' } : { ...sent, url: '' };
}

/**
 * The whole attempt as one activity, as deliveries started before local attempts
 * (DeliverMessageInput.localAttempt) call it, so their recorded histories replay. Steps not
 * done inline are done here, and a failure retries the activity.
 */
export function makeAttempt(deps: ActivityDeps) {
  const attemptStep = makeAttemptStep(deps);
  const record = makeRecord(deps);
  const afterAttempt = makeAfterAttempt(deps);

  return async function attempt(input: AttemptInput): Promise<AttemptResult> {
    let step = await attemptStep(input);
    if (step.kind === 'wait') {
      await sleep(step.waitMs);
      step = await attemptStep({ ...input, slotReserved: true });
    }
    if (step.kind === 'wait') throw new Error('unreachable: a reserved slot never waits');
    if (step.kind === 'cancelled') {
      await deps.settle(
        input.msgId,
        input.endpointId,
        'cancelled',
        input.trigger === 'manual' ? input.workflowId : undefined,
      );
      return { summary: cancelledSummary(input.attemptNumber, step.reason, new Date()), waitSeconds: null };
    }
    const { sent } = step;
    const decision = decisionFor(sent, input.nextDelaySeconds);
    const recorded = step.recorded ?? (await record({ ...input, sent, decision }));
    if (!step.lifecycleDone && needsLifecycle(decision, recorded.endedFailingStreak))
      await afterAttempt({ ...input, decision, ...lifecycleOf(sent, recorded) });
    return {
      summary: summarize(recorded.attemptId, input.attemptNumber, sent, decision),
      waitSeconds: decision.waitSeconds,
    };
  };
}
