import type { QueryResult } from '@mikro-orm/core';
import type { DeliveryStatus } from '../workflows/definitions';
import { makeAttempt, makeAttemptStep } from './attempt';
import { makeAfterAttempt } from './lifecycle';
import { makeRecord } from './record';
import type { ActivityDeps } from './deps';
import { makeOperationalSender } from './operational';
import { createReplayActivities } from './replay';
import { createRetentionActivities } from './retention';
import { createDeletionActivities } from './deletion';
import { metrics } from '../src/metrics';

export type { AttemptInput, AttemptResult } from './attempt';

/** The worker's activities, built from their dependencies (the Temporal samples' factory pattern). */
export function createActivities(deps: Omit<ActivityDeps, 'settle'>) {
  async function settle(
    msgId: string,
    endpointId: string,
    status: DeliveryStatus,
    resendWorkflowId?: string,
  ): Promise<void> {
    // A manual resend's row is its own, found by its workflow id.
    const [where, args] = resendWorkflowId
      ? [`workflow_id = ? and trigger = 'manual'`, [resendWorkflowId]]
      : [`msg_id = ? and endpoint_id = ? and trigger <> 'manual'`, [msgId, endpointId]];
    const result = await deps.orm.em.getConnection().execute<QueryResult>(
      `update deliveries set state = ?, next_attempt_at = null, updated_at = now()
          where ${where} and state in ('pending', 'sending')`,
      [status, ...args],
      'run',
    );
    // Counted only when this call ended the delivery (a repeat settles nothing).
    if (result.affectedRows > 0) metrics.deliveries.inc({ outcome: status });
  }
  const full: ActivityDeps = { ...deps, settle };
  const step = makeAttemptStep(full);
  return {
    attempt: makeAttempt(full),
    // The dispatcher admits the next delivery when this one's attempt ends (src/domain/dispatcher.ts).
    // A recorded attempt stamped the delivery dispatched itself, so the dispatcher need not.
    attemptStep: (input: Parameters<typeof step>[0]) =>
      step(input).then(
        (result) => {
          deps.dispatcher.attemptEnded(input.workflowId, result.kind === 'attempted' && !!result.recorded);
          return result;
        },
        (err: unknown) => {
          deps.dispatcher.attemptEnded(input.workflowId);
          throw err;
        },
      ),
    recordAttempt: makeRecord(full),
    afterAttempt: makeAfterAttempt(full),
    async settleDelivery(input: {
      msgId: string;
      endpointId: string;
      status: DeliveryStatus;
      /** Set by resends (deliveries started before it existed leave it out). */
      resendWorkflowId?: string;
    }): Promise<void> {
      await settle(input.msgId, input.endpointId, input.status, input.resendWorkflowId);
    },
    async reconcileDeliveries(): Promise<number> {
      const started = await deps.dispatcher.reconcile();
      metrics.reconciled.inc({ action: 'started' }, started);
      metrics.reconciled.inc({ action: 'cancelled' }, await deps.dispatcher.reconcileClosed());
      return started;
    },
    sendOperationalEvent: makeOperationalSender(full),
    ...createReplayActivities(deps),
    ...createRetentionActivities(deps),
    ...createDeletionActivities(deps),
  };
}
