import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import { billableActions, sumActions, type ActionCounts } from '../../src/temporal/billable-actions';
import { series } from '../harness/prometheus';
import { eventually } from '../harness/wait';

/**
 * The server's `action` counter (emitted by the frontend since 1.17, close to Cloud's metering
 * since 1.22.3) names its types after RPCs and commands; these are the Cloud Action types of
 * src/temporal/billable-actions.ts that they stand for. A type not listed keeps its metric name,
 * so a comparison with the history's count shows it.
 */
const CLOUD_TYPE: Record<string, string> = {
  grpc_StartWorkflowExecution: 'start_workflow',
  command_ContinueAsNewWorkflowExecution: 'start_workflow',
  command_BatchMarkers: 'record_activity_markers',
  command_UpsertWorkflowSearchAttributes: 'upsert_workflow_search_attributes',
  command_StartTimer: 'start_timer',
  command_ScheduleActivityTask: 'schedule_activity',
  activity_retry: 'retry_activity',
  grpc_SignalWorkflowExecution: 'signal_workflow',
  command_StartChildWorkflowExecution: 'start_child_workflow',
  command_StartChildWorkflowExecution_Extra: 'start_child_workflow',
};

/** The `action` counter of one namespace, by Cloud Action type. */
async function scrape(metricsUrl: string, namespace: string): Promise<Record<string, number>> {
  const text = await (await fetch(metricsUrl)).text();
  const out: Record<string, number> = {};
  for (const { labels, value } of series(text, 'action')) {
    if (labels.namespace !== namespace) continue;
    const type = CLOUD_TYPE[labels.action_type] ?? labels.action_type;
    out[type] = (out[type] ?? 0) + value;
  }
  return out;
}

/**
 * The counter once it has stopped moving: the server reports to its Prometheus registry once
 * a second, after the RPC that counted has answered, so a workflow can be closed a moment
 * before its last Actions show.
 */
export async function settledActions(
  metricsUrl: string,
  namespace = 'default',
): Promise<Record<string, number>> {
  let last = JSON.stringify(await scrape(metricsUrl, namespace));
  return eventually(
    async () => {
      await sleep(1500);
      const now = await scrape(metricsUrl, namespace);
      const same = JSON.stringify(now) === last;
      last = JSON.stringify(now);
      return same && now;
    },
    'the server action counter to settle',
    { timeoutMs: 60_000, intervalMs: 0 },
  );
}

export function delta(after: Record<string, number>, before: Record<string, number>): ActionCounts {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) if (v - (before[k] ?? 0) > 0) out[k] = v - (before[k] ?? 0);
  return out as ActionCounts;
}

/** Billable Actions of a workflow from its histories: its latest run and every run it continued from. */
export async function workflowActions(client: Client, workflowId: string): Promise<ActionCounts> {
  const runs: ActionCounts[] = [];
  let runId: string | undefined;
  do {
    const events = (await client.workflow.getHandle(workflowId, runId).fetchHistory()).events ?? [];
    runs.push(billableActions(events));
    runId = events[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId || undefined;
  } while (runId);
  return sumActions(...runs);
}
