import { proxyActivities } from '@temporalio/workflow';
import type { createActivities } from '../activities';
import type { OperationalEvent } from '../src/domain/operational-webhooks';

const { sendOperationalEvent } = proxyActivities<ReturnType<typeof createActivities>>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '5s', backoffCoefficient: 3, maximumInterval: '1 hour', maximumAttempts: 8 },
});

/** Operational webhooks to the operator's URL, retried durably like any delivery. */
export async function DeliverOperationalEvent(event: OperationalEvent): Promise<number> {
  return sendOperationalEvent(event);
}
