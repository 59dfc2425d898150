import { readFileSync } from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { billableActions, sumActions, totalActions } from '../../src/temporal/billable-actions';

const E = temporal.api.enums.v1.EventType;
type Event = temporal.api.history.v1.IHistoryEvent;

/** A recorded DeliverMessage history (test/fixtures/histories, also replayed by workflow-replay.test.ts). */
function recorded(name: string): Event[] {
  const file = path.join(__dirname, '..', 'fixtures', 'histories', `${name}.pb`);
  return temporal.api.history.v1.History.decode(readFileSync(file)).events;
}

/** int64 fields are Long in the generated types; the counter only compares them. */
const id = (n: number) => n as never;
/** Events numbered from 1, as a server writes them. */
function history(...events: Omit<Event, 'eventId'>[]): Event[] {
  return events.map((e, i) => ({ eventId: id(i + 1), ...e }));
}
const ev = (eventType: temporal.api.enums.v1.EventType, attrs: Omit<Event, 'eventType'> = {}): Event => ({
  eventType,
  ...attrs,
});
const marker = (taskCompletedId: number) =>
  ev(E.EVENT_TYPE_MARKER_RECORDED, {
    markerRecordedEventAttributes: {
      markerName: 'core_local_activity',
      workflowTaskCompletedEventId: id(taskCompletedId),
    },
  });
const task = [
  ev(E.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED),
  ev(E.EVENT_TYPE_WORKFLOW_TASK_STARTED),
  ev(E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED),
];
const started = ev(E.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED);
const upsert = (...keys: string[]) =>
  ev(E.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES, {
    upsertWorkflowSearchAttributesEventAttributes: {
      searchAttributes: { indexedFields: Object.fromEntries(keys.map((k) => [k, {}])) },
    },
  });

describe('billableActions on recorded DeliverMessage histories', () => {
  it.each([
    ['local-success', { start_workflow: 1, record_activity_markers: 1 }],
    [
      'local-retry-then-success',
      { start_workflow: 1, record_activity_markers: 2, upsert_workflow_search_attributes: 2, start_timer: 1 },
    ],
    [
      'local-exhausted',
      { start_workflow: 1, record_activity_markers: 3, upsert_workflow_search_attributes: 3, start_timer: 2 },
    ],
    // A 410 disables the endpoint, whose deliveries (this one too) are signalled; then settleDelivery.
    [
      'local-gone',
      {
        start_workflow: 1,
        record_activity_markers: 1,
        upsert_workflow_search_attributes: 2,
        signal_workflow: 1,
        schedule_activity: 1,
      },
    ],
    ['local-throttled', { start_workflow: 1, record_activity_markers: 2, start_timer: 1 }],
    // Recorded while a test queried it: its first task was completed empty and a new one forced.
    [
      'local-cancelled',
      {
        start_workflow: 1,
        record_workflow_heartbeat: 1,
        record_activity_markers: 1,
        upsert_workflow_search_attributes: 2,
        start_timer: 1,
        signal_workflow: 1,
        schedule_activity: 1,
      },
    ],
    // The attempt as one activity (before local attempts): four more persistence steps, not more Actions.
    ['deliver-success', { start_workflow: 1, schedule_activity: 1 }],
  ])('%s', (name, expected) => expect(billableActions(recorded(name))).toEqual(expected));
});

describe('billableActions rules', () => {
  it('counts the markers of one workflow task once, and metered local-activity retries apiece', () => {
    const events = history(
      started,
      ...task.slice(0, 2),
      ev(E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, {
        workflowTaskCompletedEventAttributes: {
          meteringMetadata: { nonfirstLocalActivityExecutionAttempts: 2 },
        },
      }),
      marker(4),
      marker(4),
      marker(4),
      ev(E.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED),
    );
    expect(billableActions(events)).toEqual({
      start_workflow: 1,
      record_activity_markers: 1,
      retry_activity_local: 2,
    });
  });

  it('counts a forced new workflow task as a heartbeat, not a task that waits for a buffered signal', () => {
    const heartbeat = history(started, ...task, ...task, marker(7));
    expect(billableActions(heartbeat)).toMatchObject({ record_workflow_heartbeat: 1 });
    const signalled = history(started, ...task, ev(E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED), ...task);
    expect(billableActions(signalled)).toEqual({ start_workflow: 1, signal_workflow: 1 });
  });

  it('bills upserts per command, except TemporalChangeVersion alone', () => {
    const events = history(started, ...task, upsert('A', 'B', 'C'), upsert('TemporalChangeVersion'));
    expect(billableActions(events)).toEqual({ start_workflow: 1, upsert_workflow_search_attributes: 1 });
  });

  it('bills activity retries from the started event, children twice, timers, updates and Nexus', () => {
    const events = history(
      started,
      ...task,
      ev(E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED),
      ev(E.EVENT_TYPE_ACTIVITY_TASK_STARTED, { activityTaskStartedEventAttributes: { attempt: 4 } }),
      ev(E.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED),
      ev(E.EVENT_TYPE_TIMER_STARTED),
      ev(E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED),
      ev(E.EVENT_TYPE_NEXUS_OPERATION_SCHEDULED),
      ev(E.EVENT_TYPE_NEXUS_OPERATION_CANCEL_REQUESTED),
      ev(E.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED), // billed on the signalled side
      ev(E.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW), // billed as the next run's start
    );
    expect(billableActions(events)).toEqual({
      start_workflow: 1,
      schedule_activity: 1,
      retry_activity: 3,
      start_child_workflow: 2,
      start_timer: 1,
      accept_workflow_update: 1,
      schedule_nexus_operation: 1,
      request_nexus_operation_cancellation: 1,
    });
  });

  it('bills a reset run once, and not for what it copied from the run it reset', () => {
    const events = history(
      started,
      ...task,
      ev(E.EVENT_TYPE_TIMER_STARTED),
      ev(E.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED),
      ev(E.EVENT_TYPE_WORKFLOW_TASK_STARTED),
      ev(E.EVENT_TYPE_WORKFLOW_TASK_FAILED, {
        workflowTaskFailedEventAttributes: {
          cause: temporal.api.enums.v1.WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW,
        },
      }),
      ...task,
      ev(E.EVENT_TYPE_TIMER_STARTED),
    );
    expect(billableActions(events)).toEqual({ reset_workflow: 1, start_timer: 1 });
  });

  it('adds counts up', () => {
    const sum = sumActions({ start_workflow: 1, start_timer: 2 }, { start_workflow: 1 });
    expect(sum).toEqual({ start_workflow: 2, start_timer: 2 });
    expect(totalActions(sum)).toBe(4);
  });
});
