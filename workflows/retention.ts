import { proxyActivities } from '@temporalio/workflow';
import type { PruneResult, RetentionActivities } from '../activities/retention';

const { pruneExpiredPayloads } = proxyActivities<RetentionActivities>({
  // Generous: a first pass over a large backlog may take a while; heartbeats show it alive.
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '5 minutes',
  retry: { initialInterval: '10s', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 5 },
});

/**
 * Run by the `hookflow-retention` Temporal Schedule: removes message payloads past their
 * retention period and expired idempotency records. Attempts keep their metadata.
 */
export async function PruneExpiredPayloads(input: { batchSize?: number } = {}): Promise<PruneResult> {
  return pruneExpiredPayloads(input);
}
