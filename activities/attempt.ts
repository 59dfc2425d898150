import { setTimeout as sleep } from 'node:timers/promises';
import type { AttemptSummary, DeliverMessageInput } from '../workflows/definitions';
import { decisionFor, needsLifecycle, summarize } from '../workflows/attempt-outcome';
import type { ActivityDeps } from './deps';
import { makeAfterAttempt } from './lifecycle';
import { makeRecord } from './record';
import { makeSend } from './send';

export interface AttemptInput extends DeliverMessageInput {
  attemptNumber: number;
  workflowId: string;
  /** The jittered delay before the next attempt; null when this is the last one. */
  nextDelaySeconds: number | null;
}

export interface AttemptResult {
  summary: AttemptSummary;
  /** Seconds to wait before the next attempt; null when none will follow. */
  waitSeconds: number | null;
}

/**
 * The whole attempt as one activity: send, record, lifecycle. Only deliveries started before
 * the attempt ran as local activities (DeliverMessageInput.localAttempt) still call it, so
 * their recorded histories replay; new deliveries run the three steps from the workflow.
 */
export function makeAttempt(deps: ActivityDeps) {
  const send = makeSend(deps);
  const record = makeRecord(deps);
  const afterAttempt = makeAfterAttempt(deps);

  return async function attempt(input: AttemptInput): Promise<AttemptResult> {
    const ref = { ...input, slotReserved: false };
    let sent = await send(ref);
    if (sent.kind === 'wait') {
      await sleep(sent.waitMs);
      sent = await send({ ...ref, slotReserved: true });
    }
    if (sent.kind === 'wait') throw new Error('unreachable: a reserved slot never waits');
    if (sent.kind === 'cancelled') {
      await deps.settle(input.msgId, input.endpointId, 'cancelled');
      return {
        summary: {
          attemptId: null,
          attemptNumber: input.attemptNumber,
          outcome: 'cancelled',
          statusCode: 0,
          durationMs: 0,
          at: new Date().toISOString(),
          error: sent.reason,
        },
        waitSeconds: null,
      };
    }
    const decision = decisionFor(sent, input.nextDelaySeconds);
    const recorded = await record({ ...input, sent, decision });
    if (needsLifecycle(decision, recorded.endedFailingStreak))
      await afterAttempt({
        ...input,
        decision,
        endedFailingStreak: recorded.endedFailingStreak,
        reason: sent.kind === 'misconfigured' ? sent.error : undefined,
      });
    return {
      summary: summarize(recorded.attemptId, input.attemptNumber, sent, decision),
      waitSeconds: decision.waitSeconds,
    };
  };
}
