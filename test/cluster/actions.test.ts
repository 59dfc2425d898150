import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { sumActions, totalActions, type ActionCounts } from '../../src/temporal/billable-actions';
import { Receiver } from '../harness/receiver';
import { eventually } from '../harness/wait';
import { delta, settledActions, workflowActions } from './actions-meter';
import { CURRENT, Cluster, type HookflowProcess } from './harness';

/**
 * What a delivery costs in Temporal Cloud Actions, counted from the real histories of real
 * deliveries (src/temporal/billable-actions.ts), and cross-checked against the server's own
 * `action` counter over the same runs. docs/operations.md (Scaling out) quotes these numbers:
 * a change that adds Actions to a delivery fails here, and the table below is what to update
 * when the change means to.
 *
 * Per workflow, by Cloud Action type:
 */
const EXPECTED = {
  /** The start, and one task completion carrying the attempt's local-activity marker. */
  success: { start_workflow: 1, record_activity_markers: 1 },
  /** Attempt 1 fails: marker, status upsert, the retry's timer; attempt 2: marker, status upsert. */
  retry: {
    start_workflow: 1,
    record_activity_markers: 2,
    upsert_workflow_search_attributes: 2,
    start_timer: 1,
  },
  /** Both attempts of a one-retry schedule fail: as a retry, the last upsert says failed. */
  exhausted: {
    start_workflow: 1,
    record_activity_markers: 2,
    upsert_workflow_search_attributes: 2,
    start_timer: 1,
  },
  /** Attempt 1 fails and waits; endpointDisabled (signal) ends it: cancelled upsert, settleDelivery (activity). */
  disabled: {
    start_workflow: 1,
    record_activity_markers: 1,
    upsert_workflow_search_attributes: 2,
    start_timer: 1,
    signal_workflow: 1,
    schedule_activity: 1,
  },
  /** A resend is one more delivery: here a first-attempt success. */
  resend: { start_workflow: 1, record_activity_markers: 1 },
  /**
   * ReplayDeliveries for one chunk (≤ 25 rows) on one page: countReplay, updateReplayTask,
   * replayPage, startReplayDeliveries, updateReplayTask, and the final updateReplayTask.
   * Its rate limit adds a timer when a chunk started faster than it allows (allowed below).
   */
  replayWorkflow: { start_workflow: 1, schedule_activity: 6 },
  /** Each delivery a replay starts: a first-attempt success. */
  replayDelivery: { start_workflow: 1, record_activity_markers: 1 },
} satisfies Record<string, ActionCounts>;

const REPLAYED = 3;

interface Row {
  name: string;
  deliveries: number;
  history: ActionCounts;
  metric: ActionCounts;
}

describe('cluster: Temporal Actions per delivery', () => {
  let cluster: Cluster;
  let slowApi: HookflowProcess;
  let client: Client;
  const receiver = new Receiver();
  const rows: Row[] = [];
  let failing = true;

  beforeAll(async () => {
    await receiver.listen();
    // Schedules fire on multiples of their interval since the epoch: ten days keeps the
    // reconciler and retention out of the server counter's windows.
    const quiet = String(10 * 24 * 3600);
    cluster = await Cluster.start({
      apis: 1,
      workers: 1,
      temporalMetrics: true,
      env: {
        HOOKFLOW_RETRY_SCHEDULE: '1',
        HOOKFLOW_RECONCILE_SECONDS: quiet,
        HOOKFLOW_RETENTION_SCHEDULE_SECONDS: quiet,
      },
    });
    // The schedule is fixed by the API that dispatches: this one makes deliveries that wait an hour.
    slowApi = await cluster.startApi(CURRENT, undefined, { HOOKFLOW_RETRY_SCHEDULE: '3600' });
    cluster.apis.push(slowApi);
    client = await cluster.temporalClient();
    receiver.behaviour = (r) => {
      if (r.path === '/down' || (r.path === '/recover' && failing)) return { status: 500 };
      if (r.path === '/retry' && receiver.countById(r.id) === 1) return { status: 500 };
      return { status: 200 };
    };
  });
  afterAll(async () => {
    if (rows.length) process.stderr.write(table(rows));
    await client?.connection.close();
    await cluster?.close();
    await receiver.close();
  });

  /** Runs one case between two readings of the server's counter; returns its workflows' history counts. */
  async function measure(name: string, deliveries: number, run: () => Promise<string[]>) {
    const before = await settledActions(cluster.temporal.metricsUrl!);
    const workflowIds = await cluster.explain(run());
    const after = await settledActions(cluster.temporal.metricsUrl!);
    const each = await Promise.all(workflowIds.map((id) => workflowActions(client, id)));
    const row = { name, deliveries, history: sumActions(...each), metric: delta(after, before) };
    rows.push(row);
    // The server counts what the histories show: nothing here heartbeats or retries a local activity.
    expect(row.metric).toEqual(row.history);
    return each;
  }

  const post = async (appId: string, api = cluster.apis[0]) =>
    (await cluster.api('POST', `/api/v1/app/${appId}/msg`, { eventType: 'a.b', payload: {} }, api.url)).id;
  /** Waits for the workflow to exist and to close; returns its id. */
  const closed = async (workflowId: string) => {
    const handle = client.workflow.getHandle(workflowId);
    await eventually(() => handle.describe().then(() => true), `${workflowId} to start`, {
      timeoutMs: 60_000,
    });
    await handle.result();
    return workflowId;
  };

  it('counts each kind of delivery', async () => {
    const a = await cluster.appWithEndpoint(receiver.url('/ok'));
    let msgA = '';
    const [success] = await measure('first-attempt success', 1, async () => {
      msgA = await post(a.appId);
      return [await closed(`deliver-${msgA}-${a.endpointId}`)];
    });
    expect(success).toEqual(EXPECTED.success);

    const b = await cluster.appWithEndpoint(receiver.url('/retry'));
    const [retry] = await measure('one retry, then success', 1, async () => [
      await closed(`deliver-${await post(b.appId)}-${b.endpointId}`),
    ]);
    expect(retry).toEqual(EXPECTED.retry);

    const c = await cluster.appWithEndpoint(receiver.url('/down'));
    const [disabled] = await measure('stopped by disabling the endpoint', 1, async () => {
      const id = `deliver-${await post(c.appId, slowApi)}-${c.endpointId}`;
      // Waiting on its retry timer (read from history: a query would cost an Action).
      await eventually(async () => {
        const events = (await client.workflow.getHandle(id).fetchHistory()).events ?? [];
        return events.some((e) => e.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_TIMER_STARTED);
      }, 'the first attempt to fail and wait');
      await cluster.api('PATCH', `/api/v1/app/${c.appId}/endpoint/${c.endpointId}`, { disabled: true });
      return [await closed(id)];
    });
    expect(disabled).toEqual(EXPECTED.disabled);

    const d = await cluster.appWithEndpoint(receiver.url('/recover'));
    const since = new Date(Date.now() - 60_000).toISOString();
    const msgsD: string[] = [];
    const exhausted = await measure('exhausted (one retry)', REPLAYED, async () => {
      for (let i = 0; i < REPLAYED; i++) msgsD.push(await post(d.appId));
      return Promise.all(msgsD.map((m) => closed(`deliver-${m}-${d.endpointId}`)));
    });
    exhausted.forEach((counts) => expect(counts).toEqual(EXPECTED.exhausted));

    failing = false;
    let taskId = '';
    const [replay, ...replayed] = await measure(`recover, ${REPLAYED} messages`, REPLAYED, async () => {
      taskId = (
        await cluster.api('POST', `/api/v1/app/${d.appId}/endpoint/${d.endpointId}/recover`, { since })
      ).id;
      await closed(`replay-${taskId}`);
      return [
        `replay-${taskId}`,
        ...(await Promise.all(msgsD.map((m) => closed(`replay-${taskId}-${m}-${d.endpointId}`)))),
      ];
    });
    const { start_timer: rateLimitTimers = 0, ...replayRest } = replay;
    expect(replayRest).toEqual(EXPECTED.replayWorkflow);
    expect(rateLimitTimers).toBeLessThanOrEqual(1);
    replayed.forEach((counts) => expect(counts).toEqual(EXPECTED.replayDelivery));
    expect(await cluster.api('GET', `/api/v1/background-task/${taskId}`)).toMatchObject({
      status: 'finished',
      data: expect.objectContaining({ started: REPLAYED }),
    });

    const [resend] = await measure('resend', 1, async () => {
      await cluster.api('POST', `/api/v1/app/${a.appId}/msg/${msgA}/endpoint/${a.endpointId}/resend`);
      const query = `HookflowMessage = '${msgA}' AND HookflowTrigger = 'manual'`;
      const found = await eventually(async () => {
        for await (const wf of client.workflow.list({ query })) return wf.workflowId;
      }, 'the resend in visibility');
      return [await closed(found)];
    });
    expect(resend).toEqual(EXPECTED.resend);
  });
});

/** The table docs/operations.md's figures come from. */
function table(rows: Row[]): string {
  const types = (c: ActionCounts) =>
    Object.entries(c)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
  const lines = rows.map((r) => {
    const h = totalActions(r.history);
    const per = Math.round((h / r.deliveries) * 100) / 100;
    return `| ${r.name} | ${r.deliveries} | ${h} | ${totalActions(r.metric)} | ${per} | ${types(r.history)} |`;
  });
  return [
    '',
    'Temporal Cloud Actions (history count; server `action` metric over the same window)',
    '| case | deliveries | actions (history) | actions (server metric) | per delivery | by type (history) |',
    '| --- | --- | --- | --- | --- | --- |',
    ...lines,
    '',
  ].join('\n');
}
