import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
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
 * The local-activity baseline plus what Hookflow's first-attempt success asks of Temporal's
 * visibility: started with its five search attributes and static summary (see
 * bench/baseline-worker.ts), no upsert after (the quiet first success). The gap to
 * BaselineDeliveryLocal is what those attributes cost the server.
 */
export async function BaselineDeliveryWithSearchAttributes(input: {
  url: string;
  id: string;
}): Promise<number> {
  return local.post(input);
}
