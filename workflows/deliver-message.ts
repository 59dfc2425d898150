import {
  CancellationScope,
  condition,
  isCancellation,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  type RetryPolicy,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { createActivities } from '../activities';
import { cancelledSummary, decisionFor, lifecycleOf, needsLifecycle, summarize } from './attempt-outcome';
import {
  SA,
  attemptsQuery,
  endpointDisabledSignal,
  retryNowSignal,
  type AttemptResult,
  type AttemptSummary,
  type DeliverMessageInput,
  type DeliverMessageResult,
  type DeliveryStatus,
  type VisibleStatus,
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

/**
 * The attempt as local activities: they run inside the workflow task, so a first-attempt
 * success is a start plus one workflow-task completion. `attemptStep` sends and, when it
 * can, records and runs the lifecycle in the same call; a record or lifecycle it could not
 * finish is run as its own step. Each step can be repeated safely (the record is keyed by
 * workflow id and attempt number, lifecycle events by the attempt), which is what a local
 * activity may be after a crash. Infrastructure failures retry without limit; what the
 * receiver answers never fails a step.
 */
function localSteps(timeoutMs: number) {
  const retry: RetryPolicy = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' };
  const { attemptStep } = proxyLocalActivities<Activities>({ startToCloseTimeout: timeoutMs, retry });
  const { recordAttempt, afterAttempt } = proxyLocalActivities<Activities>({
    startToCloseTimeout: '30s',
    retry,
  });
  return { attemptStep, recordAttempt, afterAttempt };
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
  const timeoutMs = input.attemptTimeoutMs ?? 120_000;
  // Versioned by the input: deliveries started before local attempts keep the one activity.
  const attempt = input.localAttempt
    ? attemptInSteps(input, workflowId, localSteps(timeoutMs), () => disabled)
    : attemptActivity(timeoutMs);
  // What a delivery waiting for its retry says. Versioned by the input: deliveries started
  // before `failingStatus` were started as 'pending' and keep saying so until they end.
  const waiting: VisibleStatus = input.failingStatus ? 'failing' : 'pending';
  const finish = async (status: DeliveryStatus): Promise<DeliverMessageResult> => {
    upsertSearchAttributes([
      { key: SA.status, value: status },
      { key: SA.nextAttemptAt, value: null },
    ] as never);
    if (status === 'cancelled') {
      await CancellationScope.nonCancellable(() =>
        settleDelivery({
          msgId: input.msgId,
          endpointId: input.endpointId,
          status,
          ...(input.trigger === 'manual' ? { resendWorkflowId: workflowId } : {}),
        }),
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
      if (result === 'disabled') return await finish('cancelled');
      history.push(result.summary);
      // The common case, a success at the first attempt, closes without a visibility update:
      // on one Temporal server that is a write per delivery. Started with no HookflowStatus
      // (failingStatus), such a delivery is Completed with no status, which says just that.
      // Versioned by the input, not by patched(): a patch marker upserts
      // TemporalChangeVersion, the very write this saves.
      if (n === 1 && result.summary.outcome === 'success' && input.quietFirstSuccess)
        return { status: 'success', attempts: 1 };
      const waitSeconds = result.waitSeconds;
      upsertSearchAttributes([
        { key: SA.attemptCount, value: n },
        { key: SA.lastHttpStatus, value: result.summary.statusCode },
        {
          key: SA.status,
          value: result.summary.outcome === 'success' ? 'success' : waitSeconds === null ? 'failed' : waiting,
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

/**
 * One attempt as local-activity steps. A throttled endpoint's slot is waited for with a
 * durable timer (an endpointDisabled signal ends the wait); the attempt number does not
 * change while waiting.
 */
function attemptInSteps(
  input: DeliverMessageInput,
  workflowId: string,
  steps: ReturnType<typeof localSteps>,
  isDisabled: () => boolean,
) {
  return async (args: { attemptNumber: number; nextDelaySeconds: number | null }) => {
    const stepInput = {
      appId: input.appId,
      msgId: input.msgId,
      endpointId: input.endpointId,
      eventType: input.eventType,
      trigger: input.trigger,
      workflowId,
      attemptNumber: args.attemptNumber,
      nextDelaySeconds: args.nextDelaySeconds,
    };
    let step = await steps.attemptStep(stepInput);
    while (step.kind === 'wait') {
      if (await condition(isDisabled, step.waitMs)) return 'disabled' as const;
      step = await steps.attemptStep({ ...stepInput, slotReserved: true });
    }
    if (step.kind === 'cancelled')
      return {
        summary: cancelledSummary(args.attemptNumber, step.reason, new Date()),
        waitSeconds: null,
      } satisfies AttemptResult;
    const { sent } = step;
    const decision = decisionFor(sent, args.nextDelaySeconds);
    const recorded = step.recorded ?? (await steps.recordAttempt({ ...stepInput, sent, decision }));
    if (!step.lifecycleDone && needsLifecycle(decision, recorded.endedFailingStreak))
      await steps.afterAttempt({ ...stepInput, decision, ...lifecycleOf(sent, recorded) });
    return {
      summary: summarize(recorded.attemptId, args.attemptNumber, sent, decision),
      waitSeconds: decision.waitSeconds,
    } satisfies AttemptResult;
  };
}
