import { startStack, type Stack } from './harness/stack';
import { Receiver } from './harness/receiver';
import { seedApp, seedEndpoint, seedMessages } from './harness/seed';
import { eventually } from './harness/wait';

/**
 * Deleting an application or endpoint (issue 15): the API answers 204 and hides it at
 * once; the DeleteResources workflow stops its running deliveries and removes its rows in
 * batches, reporting in the background-task API.
 */
describe('deletion in the background', () => {
  let stack: Stack;
  let failing: Receiver;
  const db = () => stack.services.orm.em.getConnection();
  const count = async (sql: string, args: unknown[]) =>
    ((await db().execute(sql, args)) as Array<{ n: number }>)[0].n;

  beforeAll(async () => {
    // Retries far away: a failing delivery stays running until something stops it.
    stack = await startStack({ HOOKFLOW_RETRY_SCHEDULE: '600' });
    failing = await new Receiver().listen();
    failing.behaviour = () => ({ status: 500 });
  });
  afterAll(async () => {
    await stack?.close();
    await failing?.close();
  });

  /** The task of this kind about `id` (appId or endpointId), once it has finished. */
  async function finishedTask(kind: string, key: 'appId' | 'endpointId', id: string) {
    return eventually(async () => {
      const res = await stack.call('GET', `/api/v1/background-task?task=${kind}&limit=250`);
      expect(res.status).toBe(200);
      const task = res.body.data.find((t: { data: Record<string, unknown> }) => t.data[key] === id);
      return task?.status === 'finished' ? task : null;
    }, `the ${kind} task to finish`);
  }

  const running = async (appId: string) => {
    let n = 0;
    for await (const _ of stack.services.temporal.workflow.list({
      query: `HookflowApp = '${appId}' AND WorkflowType = 'DeliverMessage' AND ExecutionStatus = 'Running'`,
    }))
      n++;
    return n;
  };

  it('deletes an application with 10,000 messages: 204 at once, then no row and no running delivery', async () => {
    const appId = await seedApp(stack.services);
    const ep = await seedEndpoint(stack.services, appId, { url: failing.url() });
    const live: string[] = [];
    for (let i = 0; i < 2; i++) {
      const res = await stack.call('POST', `/api/v1/app/${appId}/msg`, { eventType: 'a.b', payload: { i } });
      expect(res.status).toBe(202);
      live.push(res.body.id);
    }
    await eventually(() => live.every((id) => failing.countById(id) === 1), 'the first attempts');
    await eventually(async () => (await running(appId)) === 2, 'two running deliveries');
    const seeded = await seedMessages(stack.services, appId, ep.id, { at: new Date(), count: 10_000 });
    expect(await count('select count(*)::int n from messages where app_id = ?', [appId])).toBe(10_002);

    const res = await stack.call('DELETE', `/api/v1/app/${appId}`);
    expect(res.status).toBe(204);
    // Hidden at once, whatever is left of its rows.
    expect((await stack.call('GET', `/api/v1/app/${appId}`)).status).toBe(404);
    expect((await stack.call('DELETE', `/api/v1/app/${appId}`)).status).toBe(404);
    expect(
      (await stack.call('POST', `/api/v1/app/${appId}/msg`, { eventType: 'a.b', payload: {} })).status,
    ).toBe(404);

    const task = await finishedTask('application.delete', 'appId', appId);
    expect(task.data).toMatchObject({ appId, messages: 10_002, runningStopped: 2 });
    const left = await db().execute(
      `select (select count(*) from applications where id = ?)::int as applications,
              (select count(*) from endpoints where app_id = ?)::int as endpoints,
              (select count(*) from messages where app_id = ?)::int as messages,
              (select count(*) from deliveries where app_id = ?)::int as deliveries,
              (select count(*) from attempts where app_id = ?)::int as attempts`,
      [appId, appId, appId, appId, appId],
    );
    expect(left[0]).toEqual({ applications: 0, endpoints: 0, messages: 0, deliveries: 0, attempts: 0 });
    expect(
      await count(`select count(*)::int n from message_content where msg_id = any(?::text[])`, [
        `{${[...seeded, ...live].join(',')}}`,
      ]),
    ).toBe(0);
    // The running deliveries were stopped, as cancelled; none is left running.
    for (const id of live)
      expect(await stack.services.temporal.workflow.getHandle(`deliver-${id}-${ep.id}`).result()).toEqual({
        status: 'cancelled',
        attempts: 1,
      });
    await eventually(async () => (await running(appId)) === 0, 'no running delivery');
  });

  it("deletes an endpoint's deliveries and attempts, and leaves the other endpoint's", async () => {
    const appId = await seedApp(stack.services);
    const gone = await seedEndpoint(stack.services, appId, { url: failing.url() });
    const stays = await seedEndpoint(stack.services, appId, { url: failing.url() });
    await seedMessages(stack.services, appId, gone.id, { at: new Date(), count: 30 });
    await seedMessages(stack.services, appId, stays.id, { at: new Date(), count: 5 });

    expect((await stack.call('DELETE', `/api/v1/app/${appId}/endpoint/${gone.id}`)).status).toBe(204);
    expect((await stack.call('GET', `/api/v1/app/${appId}/endpoint/${gone.id}`)).status).toBe(404);
    const task = await finishedTask('endpoint.delete', 'endpointId', gone.id);
    expect(task.data).toMatchObject({ appId, endpointId: gone.id, deliveries: 30, attempts: 30 });
    // Deletions cannot be cancelled.
    expect((await stack.call('POST', `/api/v1/background-task/${task.id}/cancel`)).status).toBe(409);

    for (const table of ['deliveries', 'attempts'])
      expect(await count(`select count(*)::int n from ${table} where endpoint_id = ?`, [gone.id])).toBe(0);
    expect(await count('select count(*)::int n from deliveries where endpoint_id = ?', [stays.id])).toBe(5);
    expect(await count('select count(*)::int n from attempts where endpoint_id = ?', [stays.id])).toBe(5);
    // Messages belong to the application: they stay.
    expect(await count('select count(*)::int n from messages where app_id = ?', [appId])).toBe(35);
  });
});
