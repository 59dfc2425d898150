import { continueAsNew, proxyActivities } from '@temporalio/workflow';
import type { createActivities } from '../activities';
import type { DeletionScope } from './definitions';

type Activities = ReturnType<typeof createActivities>;

const { stopDeliveries } = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1 minute' },
});
const { deleteAppMessages, deleteStrayRows, deleteApplicationRow, updateDeletionTask } =
  proxyActivities<Activities>({
    // One short statement each.
    startToCloseTimeout: '2 minutes',
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1 minute' },
  });

export interface DeletionCounts {
  runningStopped: number;
  messages: number;
  deliveries: number;
  attempts: number;
}

export interface DeleteResourcesInput extends DeletionScope {
  taskId: string;
  /** Rows per statement. */
  batchSize?: number;
  /** Seconds signalled deliveries get to end as cancelled before they are terminated. */
  graceSeconds?: number;
  /** Activity calls per run before continuing as new. */
  batchesPerRun?: number;
  /** Carried across continue-as-new. */
  stopped?: boolean;
  cursor?: string | null;
  messagesDone?: boolean;
  counts?: DeletionCounts;
}

/**
 * Deletes an endpoint's deliveries and attempts, or an application with everything under
 * it, after the API has hidden it (the endpoint row is gone, the application has
 * `deleted_at`). Running deliveries are stopped first so none writes behind the delete;
 * rows then go in batches of short statements, never one long transaction. Progress is in
 * the background task.
 */
export async function DeleteResources(input: DeleteResourcesInput): Promise<DeletionCounts> {
  const batchSize = input.batchSize ?? 2000;
  const batchesPerRun = input.batchesPerRun ?? 200;
  const scope: DeletionScope = { appId: input.appId, endpointId: input.endpointId };
  const counts: DeletionCounts = input.counts ?? {
    runningStopped: 0,
    messages: 0,
    deliveries: 0,
    attempts: 0,
  };
  const reason = input.endpointId ? 'Endpoint deleted' : 'Application deleted';
  const graceSeconds = input.graceSeconds ?? 60;

  if (!input.stopped) counts.runningStopped += await stopDeliveries({ ...scope, reason, graceSeconds });
  let cursor = input.cursor ?? null;
  let messagesDone = input.messagesDone ?? Boolean(input.endpointId);
  for (let calls = 0; ; calls++) {
    if (calls >= batchesPerRun) {
      await updateDeletionTask({ taskId: input.taskId, status: 'running', data: { ...counts } });
      return continueAsNew<typeof DeleteResources>({ ...input, stopped: true, cursor, messagesDone, counts });
    }
    if (!messagesDone) {
      const page = await deleteAppMessages({ appId: input.appId, after: cursor, batchSize });
      counts.messages += page.messages;
      counts.deliveries += page.deliveries;
      counts.attempts += page.attempts;
      cursor = page.next;
      messagesDone = cursor === null;
      continue;
    }
    const stray = await deleteStrayRows({ ...scope, batchSize });
    counts.deliveries += stray.deliveries;
    counts.attempts += stray.attempts;
    if (stray.deliveries < batchSize && stray.attempts < batchSize) break;
  }
  // A delivery the reconciler started during the pass: stopped now; the last rows go with the application.
  counts.runningStopped += await stopDeliveries({ ...scope, reason, graceSeconds });
  const stray = await deleteStrayRows({ ...scope, batchSize });
  counts.deliveries += stray.deliveries;
  counts.attempts += stray.attempts;
  if (!input.endpointId) await deleteApplicationRow({ appId: input.appId });
  await updateDeletionTask({ taskId: input.taskId, status: 'finished', data: { ...counts } });
  return counts;
}
