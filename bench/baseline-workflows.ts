import { proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import { SA } from '../workflows/definitions';
import type { createBaselineActivities } from './baseline-activities';

const { post } = proxyActivities<ReturnType<typeof createBaselineActivities>>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
});

/** The ceiling for one workflow per delivery: one activity that posts, nothing else. */
export async function BaselineDelivery(input: { url: string; id: string }): Promise<number> {
  return post(input);
}

/**
 * The same, plus Hookflow's visibility work: started with its seven search attributes
 * (see bench/scenarios.ts) and upserting four of them after the attempt, as DeliverMessage
 * does after every attempt but a first-attempt success. The gap to BaselineDelivery is
 * what search attributes cost when every attempt records them.
 */
export async function BaselineDeliveryWithSearchAttributes(input: {
  url: string;
  id: string;
}): Promise<number> {
  const status = await post(input);
  upsertSearchAttributes([
    { key: SA.attemptCount, value: 1 },
    { key: SA.lastHttpStatus, value: status },
    { key: SA.status, value: 'success' },
    { key: SA.nextAttemptAt, value: null },
  ] as never);
  return status;
}
