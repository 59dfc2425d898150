import type { Decision } from '../src/domain/outcome';
import type { ActivityDeps } from './deps';

export interface AfterAttemptInput {
  appId: string;
  msgId: string;
  endpointId: string;
  workflowId: string;
  attemptNumber: number;
  decision: Decision;
  /** From the record step: this success ended the endpoint's failing streak. */
  endedFailingStreak: boolean;
  /** Why the request could not be built, for a misconfigured attempt. */
  reason?: string;
}

/**
 * What an attempt means for its endpoint: disable on 410, the failing / exhausted /
 * recovered operational events, auto-disable after days of exhausted deliveries. Its own
 * step, after the record, with event ids derived from the attempt: repeating it sends
 * nothing twice.
 */
export function makeAfterAttempt({ lifecycle }: ActivityDeps) {
  return async function afterAttempt(input: AfterAttemptInput): Promise<void> {
    const key = `${input.workflowId}/${input.attemptNumber}`;
    switch (input.decision.outcome) {
      case 'success':
        if (input.endedFailingStreak) await lifecycle.recovered(input, key);
        return;
      case 'gone':
        return lifecycle.disableEndpoint(input.appId, input.endpointId, 'Endpoint answered 410 Gone', key);
      case 'misconfigured':
        return lifecycle.misconfigured(input, input.reason ?? 'configuration error', key);
      case 'cancelled':
        return;
      default:
        return lifecycle.failed(input, input.attemptNumber, input.decision.waitSeconds === null, key);
    }
  };
}
