import {
  CancellationScope,
  continueAsNew,
  isCancellation,
  proxyActivities,
  type RetryPolicy,
  setHandler,
  sleep,
} from '@temporalio/workflow';
import type { createActivities } from '../activities';
import type { ReplayCursor, ReplayQuery } from '../src/domain/replay';
import { cancelReplaySignal, progressQuery, type ReplayProgress } from './definitions';

const retry: RetryPolicy = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' };
const { countReplay, replayPage, updateReplayTask } = proxyActivities<ReturnType<typeof createActivities>>({
  startToCloseTimeout: '2 minutes',
  retry,
});
// A chunk's deliveries wait their turns in the dispatcher's fair queue, behind every other
// application's: no fixed bound on how long that takes, so the activity heartbeats instead.
const { startReplayDeliveries } = proxyActivities<ReturnType<typeof createActivities>>({
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '1 minute',
  retry,
});

export interface ReplayCounts {
  total: number | null;
  matched: number;
  started: number;
  skipped: number;
  pages: number;
}

export interface ReplayDeliveriesInput {
  taskId: string;
  query: ReplayQuery;
  /** Rows read per page (one page per run: the workflow continues-as-new between pages). */
  pageSize: number;
  /** Deliveries started at once. */
  concurrency: number;
  /** Deliveries started per second at most. */
  ratePerSecond: number;
  /** Carried across continue-as-new. */
  cursor?: ReplayCursor | null;
  counts?: ReplayCounts;
}

/**
 * Pages through a replay query by keyset and starts one DeliverMessage workflow per row,
 * with bounded concurrency and a rate limit, recording progress in the background task
 * after each chunk. Stops between chunks on the `cancelReplay` signal or a Temporal
 * cancellation, so every row it reports as matched was started or skipped.
 */
export async function ReplayDeliveries(
  input: ReplayDeliveriesInput,
): Promise<ReplayCounts & { status: string }> {
  const counts: ReplayCounts = input.counts ?? { total: null, matched: 0, started: 0, skipped: 0, pages: 0 };
  let cursor: ReplayCursor | null = input.cursor ?? null;
  let cancelRequested = false;
  let done = false;
  setHandler(progressQuery, (): ReplayProgress => ({
    matched: counts.matched,
    started: counts.started,
    skipped: counts.skipped,
    pages: counts.pages,
    done,
    cancelled: cancelRequested,
  }));
  setHandler(cancelReplaySignal, () => void (cancelRequested = true));

  const progress = () => ({ ...counts, cursor });
  const finish = async (status: 'finished' | 'cancelled') => {
    done = true;
    await CancellationScope.nonCancellable(() =>
      updateReplayTask({ taskId: input.taskId, status, data: progress() }),
    );
    return { ...counts, status };
  };

  try {
    if (counts.total === null) {
      counts.total = await countReplay(input.query);
      await updateReplayTask({ taskId: input.taskId, status: 'running', data: progress() });
    }
    const rows = await replayPage({ query: input.query, cursor, limit: input.pageSize });
    counts.pages++;
    for (let i = 0; i < rows.length; i += input.concurrency) {
      if (cancelRequested) return await finish('cancelled');
      const chunk = rows.slice(i, i + input.concurrency);
      const began = Date.now(); // workflow time: deterministic
      const r = await startReplayDeliveries({ taskId: input.taskId, appId: input.query.appId, rows: chunk });
      counts.matched += chunk.length;
      counts.started += r.started;
      counts.skipped += r.skipped;
      const last = chunk[chunk.length - 1];
      cursor = { msgId: last.msgId, endpointId: last.endpointId };
      await updateReplayTask({ taskId: input.taskId, status: 'running', data: progress() });
      const minMs = (chunk.length * 1000) / input.ratePerSecond;
      const spent = Date.now() - began;
      if (spent < minMs) await sleep(minMs - spent);
    }
    if (cancelRequested) return await finish('cancelled');
    if (rows.length < input.pageSize) return await finish('finished');
  } catch (err) {
    if (isCancellation(err)) {
      // Cancelled from Web UI: recorded as cancelled with how far it got, then the cancellation stands.
      await finish('cancelled');
      throw err;
    }
    await CancellationScope.nonCancellable(() =>
      updateReplayTask({
        taskId: input.taskId,
        status: 'failed',
        data: { ...progress(), error: String((err as Error).message ?? err) },
      }),
    );
    throw err;
  }
  return await continueAsNew<typeof ReplayDeliveries>({ ...input, cursor, counts });
}
