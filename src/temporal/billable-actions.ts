import { temporal } from '@temporalio/proto';

const E = temporal.api.enums.v1.EventType;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/**
 * Temporal Cloud's Action types, named as its usage metrics name them (docs.temporal.io/cloud/actions:
 * "Metric Name"), for those that a workflow's own Event History shows.
 */
export type ActionType =
  | 'start_workflow'
  | 'start_child_workflow'
  | 'reset_workflow'
  | 'update_workflow_options'
  | 'upsert_workflow_search_attributes'
  | 'schedule_activity'
  | 'retry_activity'
  | 'record_activity_markers'
  | 'retry_activity_local'
  | 'record_workflow_heartbeat'
  | 'start_timer'
  | 'signal_workflow'
  | 'accept_workflow_update'
  | 'schedule_nexus_operation'
  | 'request_nexus_operation_cancellation';

export type ActionCounts = Partial<Record<ActionType, number>>;

/** Used by workflow versioning (patched()); Cloud does not bill its upserts. */
const CHANGE_VERSION = 'TemporalChangeVersion';

/**
 * The billable Temporal Cloud Actions that one run's Event History records, by type, as
 * docs.temporal.io/cloud/actions maps history events to Actions (read 2026-12-06):
 *
 * - a run's start (client start, Schedule, Continue-As-New): 1; a child start: 2;
 * - a search-attribute upsert: 1 (one command however many attributes; not TemporalChangeVersion alone;
 *   attributes given at start are free);
 * - an activity scheduled: 1, plus 1 per retry (the started event's attempt − 1);
 * - local activities: 1 per workflow task that recorded markers, however many, plus the
 *   retries the server metered on that task's completion;
 * - a workflow-task heartbeat: 1. History has no event of its own for it: it is a task
 *   completed with nothing to record and a new task scheduled at once (a task that only
 *   waits for a buffered signal has the signal between the two);
 * - a timer: 1 (including those behind `condition(fn, timeout)`); a signal received: 1; an
 *   accepted update: 1; options updated: 1; a Nexus operation scheduled or cancelled: 1;
 * - a reset run: 1, and the events it copied from the run it reset are billed there, not here.
 *
 * Not in any history, so not counted here: queries (1 each), activity heartbeats, rejected
 * updates, Schedule fires (2 each besides the start they make), export, and Fairness (+0.1 per
 * Action while the namespace has it on). Signal-With-Start is billed once for its start and
 * signal, which this counts as two.
 */
export function billableActions(events: HistoryEvent[]): ActionCounts {
  const counts: ActionCounts = {};
  const add = (type: ActionType, n = 1) => {
    if (n > 0) counts[type] = (counts[type] ?? 0) + n;
  };
  const isReset = (e: HistoryEvent) =>
    e.eventType === E.EVENT_TYPE_WORKFLOW_TASK_FAILED &&
    e.workflowTaskFailedEventAttributes?.cause ===
      temporal.api.enums.v1.WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW;
  let resetAt = -1;
  events.forEach((e, i) => void (isReset(e) && (resetAt = i)));
  if (resetAt >= 0) add('reset_workflow');
  const markerTasks = new Set<string>();
  events.forEach((e, i) => {
    if (i <= resetAt) return;
    switch (e.eventType) {
      case E.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
        return add('start_workflow');
      case E.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
        return add('start_child_workflow', 2);
      case E.EVENT_TYPE_WORKFLOW_EXECUTION_OPTIONS_UPDATED:
        return add('update_workflow_options');
      case E.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES: {
        const fields = e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {};
        if (Object.keys(fields).some((k) => k !== CHANGE_VERSION)) add('upsert_workflow_search_attributes');
        return;
      }
      case E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
        return add('schedule_activity');
      case E.EVENT_TYPE_ACTIVITY_TASK_STARTED:
        return add('retry_activity', (e.activityTaskStartedEventAttributes?.attempt ?? 1) - 1);
      case E.EVENT_TYPE_MARKER_RECORDED:
        markerTasks.add(String(e.markerRecordedEventAttributes?.workflowTaskCompletedEventId ?? ''));
        return;
      case E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED: {
        const metering = e.workflowTaskCompletedEventAttributes?.meteringMetadata;
        add('retry_activity_local', metering?.nonfirstLocalActivityExecutionAttempts ?? 0);
        if (events[i + 1]?.eventType === E.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED)
          add('record_workflow_heartbeat');
        return;
      }
      case E.EVENT_TYPE_TIMER_STARTED:
        return add('start_timer');
      case E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
        return add('signal_workflow');
      case E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
        return add('accept_workflow_update');
      case E.EVENT_TYPE_NEXUS_OPERATION_SCHEDULED:
        return add('schedule_nexus_operation');
      case E.EVENT_TYPE_NEXUS_OPERATION_CANCEL_REQUESTED:
        return add('request_nexus_operation_cancellation');
    }
  });
  add('record_activity_markers', markerTasks.size);
  return counts;
}

export function totalActions(counts: ActionCounts): number {
  return Object.values(counts).reduce((a, b) => a + (b ?? 0), 0);
}

/** Adds up counts (several runs, or a replay and the deliveries it started). */
export function sumActions(...all: ActionCounts[]): ActionCounts {
  const out: ActionCounts = {};
  for (const counts of all)
    for (const [k, v] of Object.entries(counts) as [ActionType, number][]) out[k] = (out[k] ?? 0) + v;
  return out;
}
