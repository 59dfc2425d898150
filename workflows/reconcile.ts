import { proxyActivities } from '@temporalio/workflow';
import type { createActivities } from '../activities';

const { reconcileDeliveries } = proxyActivities<ReturnType<typeof createActivities>>({
  startToCloseTimeout: '10 minutes',
  retry: { maximumAttempts: 3 },
});

/** Run by a Temporal Schedule: starts deliveries that were stored but never started. */
export async function Reconcile(): Promise<number> {
  return reconcileDeliveries();
}
