import { randomBytes } from 'node:crypto';
import { startStack, type Stack } from './harness/stack';
import { Receiver } from './harness/receiver';
import { seedApp, seedEndpoint } from './harness/seed';
import { eventually } from './harness/wait';
import { documentedQueries, TEN_MINUTES_AGO } from './harness/operator-queries';
import { Dispatcher } from '../src/domain/dispatcher';
import { newId } from '../src/ids';
import { SA, attemptsQuery, deliveryWorkflowId, retryNowSignal } from '../workflows/definitions';

/**
 * The Web UI queries of docs/operations.md ("Finding and acting on deliveries in Temporal"),
 * read from the document itself and run on the real server's visibility, against one
 * delivery in each state. Search attributes never say what a later state made false: a
 * delivery that succeeded at once has no HookflowStatus at all.
 */
describe('visibility queries for operators', () => {
  let stack: Stack;
  let receiver: Receiver;
  let appId: string;
  const ids: Record<string, string> = {};
  const cleanup: string[] = [];

  beforeAll(async () => {
    // Two attempts an hour apart; retryNow makes the second one happen at once.
    stack = await startStack({ HOOKFLOW_RETRY_SCHEDULE: '3600' });
    receiver = await new Receiver().listen();
    const seen = (p: string) => receiver.received.filter((r) => r.path === p).length;
    receiver.behaviour = (req) =>
      req.path === '/ok' || (req.path === '/flaky' && seen('/flaky') > 1) ? { status: 200 } : { status: 500 };
    appId = await seedApp(stack.services);

    const deliver = async (state: string, pathName: string) => {
      const ep = await seedEndpoint(stack.services, appId, {
        url: receiver.url(pathName),
        eventTypes: [state],
      });
      const res = await stack.call('POST', `/api/v1/app/${appId}/msg`, { eventType: state, payload: {} });
      expect(res.status).toBe(202);
      const id = deliveryWorkflowId(res.body.id, ep.id);
      const handle = stack.services.temporal.workflow.getHandle(id);
      await eventually(async () => (await handle.query(attemptsQuery)).length >= 1, `${state}: an attempt`);
      ids[state] = id;
      return handle;
    };
    expect(await (await deliver('delivered', '/ok')).result()).toEqual({ status: 'success', attempts: 1 });
    const flaky = await deliver('retried', '/flaky');
    await flaky.signal(retryNowSignal);
    expect(await flaky.result()).toEqual({ status: 'success', attempts: 2 });
    const exhausted = await deliver('failed', '/down');
    await exhausted.signal(retryNowSignal);
    expect(await exhausted.result()).toEqual({ status: 'failed', attempts: 2 });
    await deliver('failing', '/down');
    cleanup.push(ids.failing);

    // Stuck: started on a task queue no worker polls, so its first attempt never comes.
    const dispatcher = new Dispatcher({
      orm: stack.services.orm,
      temporal: stack.services.temporal,
      taskQueue: `unpolled-${randomBytes(6).toString('hex')}`,
      schedule: [3600],
      attemptTimeoutMs: 1000,
      log: stack.services.log,
    });
    const ref = { msgId: newId('msg'), endpointId: newId('ep'), appId, eventType: 'stuck' };
    ids.stuck = deliveryWorkflowId(ref.msgId, ref.endpointId);
    expect(await dispatcher.startDelivery(ref, ids.stuck, 'scheduled')).toBeTruthy();
    cleanup.push(ids.stuck);
  });
  afterAll(async () => {
    for (const id of cleanup)
      await stack?.services.temporal.workflow
        .getHandle(id)
        .terminate('test over')
        .catch(() => undefined);
    await stack?.close();
    await receiver?.close();
  });

  const visible = async (id: string) => {
    const { typedSearchAttributes: sa, status } = await stack.services.temporal.workflow
      .getHandle(id)
      .describe();
    return {
      execution: status.name,
      status: sa.get(SA.status),
      attempts: sa.get(SA.attemptCount),
      lastHttpStatus: sa.get(SA.lastHttpStatus),
      next: sa.get(SA.nextAttemptAt) !== undefined,
    };
  };

  it('holds nothing a later state made false', async () => {
    const none = { status: undefined, attempts: undefined, lastHttpStatus: undefined, next: false };
    expect(await visible(ids.delivered)).toEqual({ execution: 'COMPLETED', ...none });
    expect(await visible(ids.stuck)).toEqual({ execution: 'RUNNING', ...none });
    expect(await visible(ids.failing)).toEqual({
      execution: 'RUNNING',
      status: 'failing',
      attempts: 1,
      lastHttpStatus: 500,
      next: true,
    });
    expect(await visible(ids.retried)).toEqual({
      execution: 'COMPLETED',
      status: 'success',
      attempts: 2,
      lastHttpStatus: 200,
      next: false,
    });
    expect(await visible(ids.failed)).toEqual({
      execution: 'COMPLETED',
      status: 'failed',
      attempts: 2,
      lastHttpStatus: 500,
      next: false,
    });
  });

  it('finds each state with the query docs/operations.md gives', async () => {
    const queries = documentedQueries();
    expect(Object.keys(queries).sort()).toEqual(
      ['Delivered after retries', 'Delivered, at once or after retries', 'Failed', 'Failing', 'Stuck'].sort(),
    );
    const run = async (query: string) => {
      const found: string[] = [];
      for await (const wf of stack.services.temporal.workflow.list({
        query: `${query} AND HookflowApp='${appId}'`,
      }))
        found.push(wf.workflowId);
      return found.sort();
    };
    const expectFinds = (name: string, query: string, want: string[]) =>
      eventually(
        async () => JSON.stringify(await run(query)) === JSON.stringify(want.map((s) => ids[s]).sort()),
        `"${name}" to find ${want.join(', ') || 'nothing'}`,
      );
    // "10 minutes ago" is now: the stuck delivery's first attempt is overdue, the failing one's retry is not.
    const now = new Date().toISOString();
    await expectFinds('Stuck', queries.Stuck.replaceAll(TEN_MINUTES_AGO, now), ['stuck']);
    // Two hours on with no worker, the failing delivery's retry is overdue too.
    const later = new Date(Date.now() + 2 * 3600_000).toISOString();
    await expectFinds('Stuck, later', queries.Stuck.replaceAll(TEN_MINUTES_AGO, later), ['stuck', 'failing']);
    await expectFinds('Failing', queries.Failing, ['failing']);
    await expectFinds('Failed', queries.Failed, ['failed']);
    await expectFinds('Delivered after retries', queries['Delivered after retries'], ['retried']);
    await expectFinds('Delivered', queries['Delivered, at once or after retries'], ['delivered', 'retried']);
  });
});
