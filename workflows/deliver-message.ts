import {
  CancellationScope,
  condition,
  isCancellation,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { createActivities } from '../activities';
import {
  SA,
  attemptsQuery,
  endpointDisabledSignal,
  retryNowSignal,
  type AttemptSummary,
  type DeliverMessageInput,
  type DeliverMessageResult,
  type DeliveryStatus,
} from './definitions';

type Activities = ReturnType<typeof createActivities>;

const { settleDelivery } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
});

/** Infrastructure failures (database down, worker lost) retry the attempt without limit: nothing accepted is dropped. */
function attemptActivity(timeoutMs: number) {
  return proxyActivities<Activities>({
    startToCloseTimeout: timeoutMs,
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
  }).attempt;
}

/** ±20% jitter, from the workflow's deterministic random source. */
function jitter(seconds: number): number {
  return seconds * (0.8 + Math.random() * 0.4);
}

/**
 * One message to one endpoint. The workflow owns the retry schedule with durable timers;
 * the payload never enters its history (ids in, small results out).
 */
export async function DeliverMessage(input: DeliverMessageInput): Promise<DeliverMessageResult> {
  const history: AttemptSummary[] = [];
  let disabled = false;
  let retryNow = false;
  setHandler(attemptsQuery, () => history);
  setHandler(endpointDisabledSignal, () => void (disabled = true));
  setHandler(retryNowSignal, () => void (retryNow = true));

  const { workflowId } = workflowInfo();
  const attempt = attemptActivity(input.attemptTimeoutMs ?? 120_000);
  const finish = async (status: DeliveryStatus): Promise<DeliverMessageResult> => {
    upsertSearchAttributes([
      { key: SA.status, value: status },
      { key: SA.nextAttemptAt, value: null },
    ] as never);
    if (status === 'cancelled') {
      await CancellationScope.nonCancellable(() =>
        settleDelivery({ msgId: input.msgId, endpointId: input.endpointId, status }),
      );
    }
    return { status, attempts: history.length };
  };

  try {
    const attemptsAllowed = input.schedule.length + 1;
    for (let n = 1; n <= attemptsAllowed; n++) {
      if (disabled) return await finish('cancelled');
      const base = n <= input.schedule.length ? jitter(input.schedule[n - 1]) : null;
      retryNow = false;
      const result = await attempt({ ...input, attemptNumber: n, workflowId, nextDelaySeconds: base });
      history.push(result.summary);
      // The common case, a success at the first attempt, closes without a visibility update:
      // on one Temporal server that is a write per delivery, and Completed with
      // HookflowAttemptCount 0 says the same. Versioned by the input, not by patched():
      // a patch marker upserts TemporalChangeVersion, the very write this saves.
      if (n === 1 && result.summary.outcome === 'success' && input.quietFirstSuccess)
        return { status: 'success', attempts: 1 };
      const waitSeconds = result.waitSeconds;
      upsertSearchAttributes([
        { key: SA.attemptCount, value: n },
        { key: SA.lastHttpStatus, value: result.summary.statusCode },
        {
          key: SA.status,
          value:
            result.summary.outcome === 'success' ? 'success' : waitSeconds === null ? 'failed' : 'pending',
        },
        {
          key: SA.nextAttemptAt,
          value: waitSeconds === null ? null : new Date(Date.now() + waitSeconds * 1000),
        },
      ] as never);
      switch (result.summary.outcome) {
        case 'success':
          return { status: 'success', attempts: n };
        case 'cancelled':
        case 'gone':
          return await finish('cancelled');
      }
      if (waitSeconds === null) return { status: 'failed', attempts: n };
      // Woken early by endpointDisabled (stop) or retryNow (attempt at once).
      await condition(() => disabled || retryNow, waitSeconds * 1000);
    }
    return { status: 'failed', attempts: history.length };
  } catch (err) {
    if (isCancellation(err)) {
      // Cancelled from Web UI or the API: recorded as cancelled, then the cancellation stands.
      await finish('cancelled');
    }
    throw err;
  }
}
