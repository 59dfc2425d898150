import { startStack, WORKFLOW_RUNNERS, type Stack } from './harness/stack';
import { Receiver } from './harness/receiver';
import { seedApp, seedEndpoint } from './harness/seed';
import { eventually } from './harness/wait';
import { SA, attemptsQuery, endpointDisabledSignal } from '../workflows/definitions';

/** Delivery against the real Temporal dev server and PostgreSQL, with loopback receivers; workflows run by each runner. */
describe.each(WORKFLOW_RUNNERS)('delivery (workflows: %s)', (runner) => {
  const env = { HOOKFLOW_WORKFLOW_RUNNER: runner };
  let stack: Stack;
  let receiver: Receiver;
  beforeAll(async () => {
    stack = await startStack({ ...env, HOOKFLOW_RETRY_SCHEDULE: '1,1,1', HOOKFLOW_HTTP_TIMEOUT_MS: '1500' });
    receiver = await new Receiver().listen();
  });
  afterAll(async () => {
    await stack?.close();
    await receiver?.close();
  });
  beforeEach(() => {
    receiver.received.length = 0;
    receiver.behaviour = () => ({ status: 200 });
  });

  const db = () => stack.services.orm.em.getConnection();
  const post = async (appId: string, body: Record<string, unknown>) => {
    const res = await stack.call('POST', `/api/v1/app/${appId}/msg`, body);
    expect(res.status).toBe(202);
    return res.body.id as string;
  };
  /** Deliveries start after the 202, so the workflow may not exist yet when asked. */
  const result = async (msgId: string, endpointId: string, on: Stack = stack) => {
    const handle = on.services.temporal.workflow.getHandle(`deliver-${msgId}-${endpointId}`);
    await eventually(() => handle.describe().then(() => true), 'the delivery workflow to start');
    return handle.result();
  };
  const attemptRows = (msgId: string, endpointId: string) =>
    db().execute('select * from attempts where msg_id = ? and endpoint_id = ? order by attempt_number', [
      msgId,
      endpointId,
    ]);

  it('routes a message to every matching endpoint and no other', async () => {
    const appId = await seedApp(stack.services);
    const all = await seedEndpoint(stack.services, appId, { url: receiver.url('/all') });
    const typed = await seedEndpoint(stack.services, appId, {
      url: receiver.url('/typed'),
      eventTypes: ['invoice.paid'],
    });
    const otherType = await seedEndpoint(stack.services, appId, {
      url: receiver.url('/other'),
      eventTypes: ['user.deleted'],
    });
    const channel = await seedEndpoint(stack.services, appId, {
      url: receiver.url('/chan'),
      channels: ['eu'],
    });
    const otherChannel = await seedEndpoint(stack.services, appId, {
      url: receiver.url('/us'),
      channels: ['us'],
    });
    const disabled = await seedEndpoint(stack.services, appId, { url: receiver.url('/off'), disabled: true });
    receiver.secrets = [all, typed, otherType, channel, otherChannel, disabled].map((e) => e.secret);

    const msgId = await post(appId, { eventType: 'invoice.paid', payload: { n: 1 }, channels: ['eu'] });
    for (const ep of [all, typed, channel])
      expect(await result(msgId, ep.id)).toEqual({ status: 'success', attempts: 1 });
    const paths = receiver.received.map((r) => r.path).sort();
    expect(paths).toEqual(['/all', '/chan', '/typed']);
    expect(receiver.received.every((r) => r.verified)).toBe(true);
    const deliveries = await db().execute('select endpoint_id from deliveries where msg_id = ?', [msgId]);
    expect(deliveries.map((d: any) => d.endpoint_id).sort()).toEqual([all.id, typed.id, channel.id].sort());
  });

  it('stores but does not send while the application has webhooks switched off', async () => {
    const appId = await seedApp(stack.services, { webhooksEnabled: false });
    await seedEndpoint(stack.services, appId, { url: receiver.url() });
    const msgId = await post(appId, { eventType: 'a.b', payload: { n: 2 } });
    const rows = await db().execute('select count(*)::int as n from deliveries where msg_id = ?', [msgId]);
    expect(rows[0].n).toBe(0);
    expect((await db().execute('select count(*)::int as n from messages where id = ?', [msgId]))[0].n).toBe(
      1,
    );
  });

  it('retries a receiver that fails twice, then succeeds; the attempts query and rows agree', async () => {
    const appId = await seedApp(stack.services);
    const ep = await seedEndpoint(stack.services, appId, { url: receiver.url() });
    receiver.secrets = [ep.secret];
    receiver.behaviour = (_r, n) => ({ status: n <= 2 ? 500 : 200, body: n <= 2 ? 'boom' : 'fine' });
    const msgId = await post(appId, { eventType: 'a.b', payload: { n: 3 } });
    expect(await result(msgId, ep.id)).toEqual({ status: 'success', attempts: 3 });
    expect(receiver.received).toHaveLength(3);
    expect(new Set(receiver.received.map((r) => r.id))).toEqual(new Set([msgId]));

    const rows = await attemptRows(msgId, ep.id);
    expect(rows.map((r: any) => [r.attempt_number, r.response_status_code, r.status])).toEqual([
      [1, 500, 2],
      [2, 500, 2],
      [3, 200, 0],
    ]);
    expect(rows[0].response).toBe('boom');
    const history = await stack.services.temporal.workflow
      .getHandle(`deliver-${msgId}-${ep.id}`)
      .query(attemptsQuery);
    expect(history.map((h) => [h.attemptId, h.statusCode])).toEqual(
      rows.map((r: any) => [r.id, r.response_status_code]),
    );
    const delivery = (await db().execute('select * from deliveries where msg_id = ?', [msgId]))[0];
    expect(delivery).toMatchObject({ state: 'success', attempt_count: 3, last_status_code: 200 });
  });

  it('closes a first-attempt success without a visibility update; a retried one records its status', async () => {
    const appId = await seedApp(stack.services);
    const ep = await seedEndpoint(stack.services, appId, { url: receiver.url() });
    const first = await post(appId, { eventType: 'a.b', payload: { first: true } });
    expect(await result(first, ep.id)).toEqual({ status: 'success', attempts: 1 });
    receiver.behaviour = (_r, n) => ({ status: n === 2 ? 500 : 200 });
    const retried = await post(appId, { eventType: 'a.b', payload: { retried: true } });
    expect(await result(retried, ep.id)).toEqual({ status: 'success', attempts: 2 });

    const visibility = async (msgId: string) => {
      const handle = stack.services.temporal.workflow.getHandle(`deliver-${msgId}-${ep.id}`);
      const { events } = await handle.fetchHistory();
      const upserts = events!.filter((e) => e.upsertWorkflowSearchAttributesEventAttributes).length;
      const { typedSearchAttributes: sa, status } = await handle.describe();
      return { upserts, closed: status.name, status: sa.get(SA.status), attempts: sa.get(SA.attemptCount) };
    };
    // What docs/operations.md says: Completed with no status means delivered at once.
    expect(await visibility(first)).toEqual({
      upserts: 0,
      closed: 'COMPLETED',
      status: undefined,
      attempts: undefined,
    });
    expect(await visibility(retried)).toEqual({
      upserts: 2,
      closed: 'COMPLETED',
      status: 'success',
      attempts: 2,
    });
  });

  it('fails after the schedule is exhausted, recording every attempt', async () => {
    const appId = await seedApp(stack.services);
    const ep = await seedEndpoint(stack.services, appId, { url: receiver.url() });
    receiver.behaviour = () => ({ status: 503 });
    const msgId = await post(appId, { eventType: 'a.b', payload: {} });
    expect(await result(msgId, ep.id)).toEqual({ status: 'failed', attempts: 4 });
    expect(await attemptRows(msgId, ep.id)).toHaveLength(4);
    expect((await db().execute('select state from deliveries where msg_id = ?', [msgId]))[0].state).toBe(
      'failed',
    );
    const epRow = (await db().execute('select failing_since from endpoints where id = ?', [ep.id]))[0];
    expect(epRow.failing_since).not.toBeNull();
  });

  it('treats 3xx as a failure and does not follow the redirect', async () => {
    const appId = await seedApp(stack.services);
    const ep = await seedEndpoint(stack.services, appId, { url: receiver.url('/moved') });
    receiver.behaviour = (r) =>
      r.path === '/moved' ? { status: 302, headers: { location: receiver.url('/target') } } : { status: 200 };
    const msgId = await post(appId, { eventType: 'a.b', payload: {} });
    expect(await result(msgId, ep.id)).toEqual({ status: 'failed', attempts: 4 });
    expect(receiver.received.filter((r) => r.path === '/target')).toHaveLength(0);
    expect((await attemptRows(msgId, ep.id))[0].response_status_code).toBe(302);
  });

  it('disables the endpoint on 410 and stops', async () => {
    const appId = await seedApp(stack.services);
    const ep = await seedEndpoint(stack.services, appId, { url: receiver.url() });
    receiver.behaviour = () => ({ status: 410 });
    const msgId = await post(appId, { eventType: 'a.b', payload: {} });
    expect(await result(msgId, ep.id)).toEqual({ status: 'cancelled', attempts: 1 });
    const row = (
      await db().execute('select disabled, disabled_reason from endpoints where id = ?', [ep.id])
    )[0];
    expect(row.disabled).toBe(true);
    expect(row.disabled_reason).toMatch(/410/);
    // A later message is not routed to the disabled endpoint.
    const later = await post(appId, { eventType: 'a.b', payload: {} });
    expect(
      (await db().execute('select count(*)::int as n from deliveries where msg_id = ?', [later]))[0].n,
    ).toBe(0);
  });

  it('waits at least a minute after a 429, honouring Retry-After within [delay, 2×delay]', async () => {
    const appId = await seedApp(stack.services);
    const ep = await seedEndpoint(stack.services, appId, { url: receiver.url() });
    receiver.behaviour = () => ({ status: 429, headers: { 'retry-after': '90' } });
    const msgId = await post(appId, { eventType: 'a.b', payload: {} });
    const delivery = await eventually(async () => {
      const rows = await db().execute('select * from deliveries where msg_id = ? and attempt_count = 1', [
        msgId,
      ]);
      return rows[0];
    }, 'the first attempt');
    const waited =
      (new Date(delivery.next_attempt_at).getTime() - new Date(delivery.last_attempt_at).getTime()) / 1000;
    // base delay 1 s → at least 60 s for a 429; Retry-After 90 lies within [60, 120].
    expect(waited).toBeCloseTo(90, 0);
    const handle = stack.services.temporal.workflow.getHandle(`deliver-${msgId}-${ep.id}`);
    await handle.signal(endpointDisabledSignal, { reason: 'test over' });
    expect(await handle.result()).toEqual({ status: 'cancelled', attempts: 1 });
  });

  it('treats a timeout like a 429 (at least a minute) and a refused connection as a failure', async () => {
    const appId = await seedApp(stack.services);
    const hanging = await seedEndpoint(stack.services, appId, {
      url: receiver.url('/hang'),
      eventTypes: ['hang'],
    });
    receiver.behaviour = (r) => (r.path === '/hang' ? { hang: true } : { status: 200 });
    const closed = await new Receiver().listen();
    const refusedUrl = closed.url('/gone');
    await closed.close();
    const refused = await seedEndpoint(stack.services, appId, { url: refusedUrl, eventTypes: ['refuse'] });

    const hangMsg = await post(appId, { eventType: 'hang', payload: {} });
    const refuseMsg = await post(appId, { eventType: 'refuse', payload: {} });
    expect(await result(refuseMsg, refused.id)).toEqual({ status: 'failed', attempts: 4 });
    const refusedRow = (await attemptRows(refuseMsg, refused.id))[0];
    expect(refusedRow).toMatchObject({ response_status_code: 0, error_kind: 'ECONNREFUSED', status: 2 });

    const delivery = await eventually(async () => {
      const rows = await db().execute('select * from deliveries where msg_id = ? and attempt_count = 1', [
        hangMsg,
      ]);
      return rows[0];
    }, 'the timed-out attempt');
    const waited =
      (new Date(delivery.next_attempt_at).getTime() - new Date(delivery.last_attempt_at).getTime()) / 1000;
    expect(waited).toBeGreaterThanOrEqual(60);
    expect((await attemptRows(hangMsg, hanging.id))[0].error_kind).toBe('timeout');
    const handle = stack.services.temporal.workflow.getHandle(`deliver-${hangMsg}-${hanging.id}`);
    await handle.signal(endpointDisabledSignal);
    expect(await handle.result()).toEqual({ status: 'cancelled', attempts: 1 });
  });

  it('stops a delivery waiting for its next attempt on endpointDisabled', async () => {
    const slow = await startStack({ ...env, HOOKFLOW_RETRY_SCHEDULE: '3600' });
    try {
      const appId = await seedApp(slow.services);
      const ep = await seedEndpoint(slow.services, appId, { url: receiver.url() });
      receiver.behaviour = () => ({ status: 500 });
      const res = await slow.call('POST', `/api/v1/app/${appId}/msg`, { eventType: 'a.b', payload: {} });
      const handle = slow.services.temporal.workflow.getHandle(`deliver-${res.body.id}-${ep.id}`);
      await eventually(async () => (await handle.query(attemptsQuery)).length === 1, 'the first attempt');
      await handle.signal(endpointDisabledSignal, { reason: 'disabled in test' });
      expect(await handle.result()).toEqual({ status: 'cancelled', attempts: 1 });
      const state = (await db().execute('select state from deliveries where msg_id = ?', [res.body.id]))[0]
        .state;
      expect(state).toBe('cancelled');
    } finally {
      await slow.close();
    }
  });

  it('renders the payload template and uses the endpoint method', async () => {
    const appId = await seedApp(stack.services);
    const ep = await seedEndpoint(stack.services, appId, {
      url: receiver.url(),
      method: 'PUT',
      payloadTemplate: '{"text": "Hello {{data.name}}", "type": "{{event}}", "raw": {{data}}}',
    });
    receiver.secrets = [ep.secret];
    const msgId = await post(appId, {
      eventType: 'contact.created',
      payload: { data: { name: 'a "quoted" \n name' } },
    });
    expect(await result(msgId, ep.id)).toMatchObject({ status: 'success' });
    const got = receiver.received[0];
    expect(got.method).toBe('PUT');
    expect(got.verified).toBe(true);
    expect(JSON.parse(got.body)).toEqual({
      text: 'Hello a "quoted" \n name',
      type: 'contact.created',
      raw: { name: 'a "quoted" \n name' },
    });
  });
});

describe('delivery terminated in Temporal', () => {
  it('shows as cancelled once reconciled', async () => {
    const stack = await startStack({ HOOKFLOW_RETRY_SCHEDULE: '3600' });
    const receiver = await new Receiver().listen();
    try {
      const appId = await seedApp(stack.services);
      const ep = await seedEndpoint(stack.services, appId, { url: receiver.url() });
      receiver.behaviour = () => ({ status: 500 });
      const res = await stack.call('POST', `/api/v1/app/${appId}/msg`, { eventType: 'a.b', payload: {} });
      const handle = stack.services.temporal.workflow.getHandle(`deliver-${res.body.id}-${ep.id}`);
      await eventually(async () => (await handle.query(attemptsQuery)).length === 1, 'the first attempt');
      await handle.terminate('terminated by an operator in Web UI');
      // Visibility is eventually consistent: reconcile until the closed workflow is seen.
      await eventually(
        async () => (await stack.services.dispatcher.reconcileClosed()) > 0,
        'the reconciler to see it',
      );
      const row = (
        await stack.services.orm.em
          .getConnection()
          .execute('select state from deliveries where msg_id = ?', [res.body.id])
      )[0];
      expect(row.state).toBe('cancelled');
    } finally {
      await stack.close();
      await receiver.close();
    }
  });

  it('shows as cancelled once reconciled when terminated before any attempt ended (no status yet)', async () => {
    // No worker polls this stack's task queue: the delivery is started and never attempted.
    const stack = await startStack({}, { worker: false });
    try {
      const appId = await seedApp(stack.services);
      await seedEndpoint(stack.services, appId, { url: 'http://127.0.0.1:9/never' });
      const res = await stack.call('POST', `/api/v1/app/${appId}/msg`, { eventType: 'a.b', payload: {} });
      const db = stack.services.orm.em.getConnection();
      const workflowId = await eventually(async () => {
        const rows = await db.execute('select workflow_id from deliveries where msg_id = ?', [res.body.id]);
        return rows[0]?.workflow_id as string | undefined;
      }, 'the start to be stamped');
      const handle = stack.services.temporal.workflow.getHandle(workflowId);
      expect((await handle.describe()).typedSearchAttributes.get(SA.status)).toBeUndefined();
      await handle.terminate('terminated by an operator in Web UI');
      await eventually(
        async () => (await stack.services.dispatcher.reconcileClosed()) > 0,
        'the reconciler to see it',
      );
      const row = (await db.execute('select state from deliveries where msg_id = ?', [res.body.id]))[0];
      expect(row.state).toBe('cancelled');
    } finally {
      await stack.close();
    }
  });
});
