import { proxyActivities } from '@temporalio/workflow';
import type { createBaselineActivities } from './baseline-activities';

const { post } = proxyActivities<ReturnType<typeof createBaselineActivities>>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
});

/** The ceiling for one workflow per delivery: one activity that posts, nothing else. */
export async function BaselineDelivery(input: { url: string; id: string }): Promise<number> {
  return post(input);
}
