import { proxyActivities, proxyLocalActivities, upsertSearchAttributes } from '@temporalio/workflow';
import { SA } from '../workflows/definitions';
import type { createBaselineActivities } from './baseline-activities';

type Activities = ReturnType<typeof createBaselineActivities>;
const options = {
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
} as const;
const { post } = proxyActivities<Activities>(options);
const local = proxyLocalActivities<Activities>(options);

/** The ceiling for one workflow per delivery: one activity that posts, nothing else. */
export async function BaselineDelivery(input: { url: string; id: string }): Promise<number> {
  return post(input);
}

/**
 * The same POST as a local activity: it runs inside the workflow task, so a first-attempt
 * success is a start and one workflow-task completion, with no activity task in between.
 */
export async function BaselineDeliveryLocal(input: { url: string; id: string }): Promise<number> {
  return local.post(input);
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
