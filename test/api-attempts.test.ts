import { startStack, type Stack } from './harness/stack';
import { Receiver } from './harness/receiver';
import { seedApp, seedEndpoint } from './harness/seed';
import { eventually } from './harness/wait';

/** Attempts API (Svix's MessageAttemptOut and friends) over real deliveries, and manual resend. */
describe('attempts API', () => {
  let stack: Stack;
  let receiver: Receiver;
  let appId: string;
  let ok: { id: string; secret: string };
  let failing: { id: string; secret: string };
  const msgs: string[] = [];
  let before: string;

  const db = () => stack.services.orm.em.getConnection();
  const count = async (sql: string, args: unknown[]) => Number((await db().execute(sql, args))[0].n);

  beforeAll(async () => {
    stack = await startStack({ HOOKFLOW_RETRY_SCHEDULE: '1' });
    receiver = await new Receiver().listen();
    receiver.behaviour = (r) => ({
      status: r.path === '/fail' ? 500 : 200,
      body: r.path === '/fail' ? 'boom' : 'fine',
    });
    appId = await seedApp(stack.services);
    ok = await seedEndpoint(stack.services, appId, { url: receiver.url('/ok') });
    failing = await seedEndpoint(stack.services, appId, {
      url: receiver.url('/fail'),
      eventTypes: ['order.created'],
    });
    receiver.secrets = [ok.secret, failing.secret];
    before = new Date(Date.now() - 1000).toISOString();
    for (const [eventType, channels] of [
      ['user.created', ['c1']],
      ['order.created', null],
      ['order.created', ['c2']],
    ] as const) {
      const res = await stack.call('POST', `/api/v1/app/${appId}/msg`, {
        eventType,
        payload: { n: msgs.length },
        channels,
      });
      expect(res.status).toBe(202);
      msgs.push(res.body.id);
    }
    // ok: 3 successes; failing: 2 messages × 2 attempts (schedule '1'), then failed.
    await eventually(
      async () =>
        (await count(`select count(*) as n from attempts where app_id = ?`, [appId])) === 7 &&
        (await count(`select count(*) as n from deliveries where endpoint_id = ? and state = 'failed'`, [
          failing.id,
        ])) === 2,
      'all attempts recorded',
    );
  });
  afterAll(async () => {
    await stack?.close();
    await receiver?.close();
  });

  const list = (path: string, token?: string) =>
    stack.call('GET', `/api/v1/app/${appId}${path}`, undefined, token);

  it('lists attempts of an endpoint, newest first, in Svix shapes', async () => {
    const res = await list(`/attempt/endpoint/${ok.id}`);
    expect(res.status).toBe(200);
    expect(res.body.data).toHaveLength(3);
    expect(res.body.done).toBe(true);
    const ids = res.body.data.map((a: any) => a.id);
    expect([...ids].sort().reverse()).toEqual(ids);
    // Attempts run concurrently, so their order is by attempt id, not by message.
    expect(res.body.data.map((a: any) => a.msgId).sort()).toEqual([...msgs].sort());
    expect(res.body.data.find((a: any) => a.msgId === msgs[2])).toEqual({
      id: expect.stringMatching(/^atmpt_/),
      msgId: msgs[2],
      endpointId: ok.id,
      url: receiver.url('/ok'),
      response: 'fine',
      responseStatusCode: 200,
      responseDurationMs: expect.any(Number),
      status: 0,
      statusText: 'success',
      triggerType: 0,
      timestamp: expect.any(String),
      errorKind: null,
      responseTruncated: false,
    });
  });

  it('pages with limit and iterator, both ways', async () => {
    const first = await list(`/attempt/endpoint/${ok.id}?limit=2`);
    expect(first.body.data).toHaveLength(2);
    expect(first.body.done).toBe(false);
    const second = await list(`/attempt/endpoint/${ok.id}?limit=2&iterator=${first.body.iterator}`);
    expect(second.body.data).toHaveLength(1);
    expect(second.body.done).toBe(true);
    const all = [...first.body.data, ...second.body.data].map((a: any) => a.id);
    const full = (await list(`/attempt/endpoint/${ok.id}`)).body.data.map((a: any) => a.id);
    expect(all).toEqual(full);
    const back = await list(`/attempt/endpoint/${ok.id}?limit=2&iterator=${second.body.prevIterator}`);
    expect(back.body.data.map((a: any) => a.id)).toEqual(full.slice(0, 2));
    const asc = await list(`/attempt/endpoint/${ok.id}?order=ascending`);
    expect(asc.body.data.map((a: any) => a.id)).toEqual([...full].reverse());
  });

  it('filters by status, status code class, event types, channel and time', async () => {
    const failed = await list(`/attempt/endpoint/${failing.id}`);
    expect(failed.body.data).toHaveLength(4);
    expect(
      failed.body.data.every(
        (a: any) => a.status === 2 && a.responseStatusCode === 500 && a.response === 'boom',
      ),
    ).toBe(true);
    expect((await list(`/attempt/endpoint/${failing.id}?status=0`)).body.data).toHaveLength(0);
    expect((await list(`/attempt/endpoint/${failing.id}?status=2`)).body.data).toHaveLength(4);
    expect((await list(`/attempt/endpoint/${failing.id}?status_code_class=500`)).body.data).toHaveLength(4);
    expect((await list(`/attempt/endpoint/${failing.id}?status_code_class=200`)).body.data).toHaveLength(0);
    expect((await list(`/attempt/endpoint/${ok.id}?event_types=order.created`)).body.data).toHaveLength(2);
    expect(
      (await list(`/attempt/endpoint/${ok.id}?event_types=order.created,user.created`)).body.data,
    ).toHaveLength(3);
    const c1 = await list(`/attempt/endpoint/${ok.id}?channel=c1`);
    expect(c1.body.data.map((a: any) => a.msgId)).toEqual([msgs[0]]);
    expect(
      (await list(`/attempt/endpoint/${ok.id}?after=${encodeURIComponent(before)}`)).body.data,
    ).toHaveLength(3);
    expect(
      (await list(`/attempt/endpoint/${ok.id}?before=${encodeURIComponent(before)}`)).body.data,
    ).toHaveLength(0);
    const bad = await list(`/attempt/endpoint/${ok.id}?status=9`);
    expect(bad.status).toBe(422);
    expect(bad.body.detail[0].loc).toEqual(['query', 'status']);
  });

  it('includes the message with with_msg, and drops content with with_content=false', async () => {
    const withMsg = await list(`/attempt/endpoint/${ok.id}?with_msg=true&channel=c2`);
    expect(withMsg.body.data[0].msg).toMatchObject({
      id: msgs[2],
      eventType: 'order.created',
      payload: { n: 2 },
      channels: ['c2'],
    });
    const bare = await list(`/attempt/endpoint/${ok.id}?with_msg=true&with_content=false&limit=1`);
    expect(bare.body.data[0].response).toBe('');
    expect(bare.body.data[0].msg.payload).toEqual({});
  });

  it('lists attempts of a message, filtered by endpoint, and gets one', async () => {
    const all = await list(`/attempt/msg/${msgs[1]}`);
    expect(all.body.data).toHaveLength(3);
    const one = await list(`/attempt/msg/${msgs[1]}?endpoint_id=${failing.id}`);
    expect(one.body.data).toHaveLength(2);
    expect(one.body.data.every((a: any) => a.endpointId === failing.id)).toBe(true);
    const got = await list(`/msg/${msgs[1]}/attempt/${one.body.data[0].id}`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(one.body.data[0]);
    expect((await list(`/msg/${msgs[0]}/attempt/${one.body.data[0].id}`)).status).toBe(404);
  });

  it('lists attempted messages of an endpoint and attempted endpoints of a message, with status', async () => {
    const msgsOfFailing = await list(`/endpoint/${failing.id}/msg`);
    expect(msgsOfFailing.status).toBe(200);
    expect(msgsOfFailing.body.data.map((m: any) => m.id)).toEqual([msgs[2], msgs[1]]);
    expect(msgsOfFailing.body.data[0]).toMatchObject({
      eventType: 'order.created',
      status: 2,
      statusText: 'fail',
      nextAttempt: null,
      payload: { n: 2 },
    });
    expect((await list(`/endpoint/${failing.id}/msg?status=0`)).body.data).toHaveLength(0);
    expect((await list(`/endpoint/${ok.id}/msg?status=0`)).body.data).toHaveLength(3);

    const dests = await list(`/msg/${msgs[1]}/endpoint`);
    expect(dests.status).toBe(200);
    const byId = Object.fromEntries(dests.body.data.map((e: any) => [e.id, e]));
    expect(Object.keys(byId).sort()).toEqual([ok.id, failing.id].sort());
    expect(byId[ok.id]).toMatchObject({
      url: receiver.url('/ok'),
      status: 0,
      statusText: 'success',
      disabled: false,
    });
    expect(byId[failing.id]).toMatchObject({ status: 2, statusText: 'fail', eventTypes: ['order.created'] });
  });

  it("answers 404 for another application's endpoint, message or attempt", async () => {
    const other = await seedApp(stack.services);
    const otherEp = await seedEndpoint(stack.services, other, { url: receiver.url('/ok') });
    expect((await list(`/attempt/endpoint/${otherEp.id}`)).status).toBe(404);
    expect((await stack.call('GET', `/api/v1/app/${other}/attempt/endpoint/${ok.id}`)).status).toBe(404);
    expect((await stack.call('GET', `/api/v1/app/${other}/attempt/msg/${msgs[0]}`)).status).toBe(404);
    expect((await stack.call('GET', `/api/v1/app/${other}/msg/${msgs[0]}/endpoint`)).status).toBe(404);
    const otherToken = await stack.services.tokens.issueAppToken(other);
    expect((await list(`/attempt/endpoint/${ok.id}`, otherToken)).status).toBe(404);
    const ownToken = await stack.services.tokens.issueAppToken(appId);
    expect((await list(`/attempt/endpoint/${ok.id}`, ownToken)).status).toBe(200);
  });

  it('resends a message as a new manual delivery, even after a success', async () => {
    const res = await stack.call('POST', `/api/v1/app/${appId}/msg/${msgs[0]}/endpoint/${ok.id}/resend`);
    expect(res.status).toBe(202);
    await eventually(() => receiver.countById(msgs[0]) === 2, 'the resent delivery');
    const attempts = await eventually(async () => {
      const r = await list(`/attempt/msg/${msgs[0]}`);
      return r.body.data.length === 2 ? r.body.data : null;
    }, 'the manual attempt recorded');
    expect(attempts[0]).toMatchObject({ triggerType: 1, status: 0, endpointId: ok.id });
    expect(attempts[1]).toMatchObject({ triggerType: 0 });
    // Its own delivery record: the original's state and counters are left as they were.
    const rows = await stack.services.orm.em
      .getConnection()
      .execute(
        'select trigger, state, attempt_count, workflow_id from deliveries where msg_id = ? and endpoint_id = ? order by trigger desc',
        [msgs[0], ok.id],
      );
    expect(rows).toEqual([
      {
        trigger: 'scheduled',
        state: 'success',
        attempt_count: 1,
        workflow_id: `deliver-${msgs[0]}-${ok.id}`,
      },
      {
        trigger: 'manual',
        state: 'success',
        attempt_count: 1,
        workflow_id: expect.stringMatching(/^resend-/),
      },
    ]);
    // Lists keyed by message or endpoint show the scheduled delivery once.
    const destinations = await list(`/msg/${msgs[0]}/endpoint`);
    expect(destinations.body.data.filter((d: any) => d.id === ok.id)).toHaveLength(1);
  });

  it('refuses a resend to a disabled endpoint, or of an unknown message', async () => {
    const off = await seedEndpoint(stack.services, appId, { url: receiver.url('/ok'), disabled: true });
    const res = await stack.call('POST', `/api/v1/app/${appId}/msg/${msgs[0]}/endpoint/${off.id}/resend`);
    expect(res.status).toBe(409);
    expect(res.body.detail).toMatch(/disabled/);
    expect(
      (await stack.call('POST', `/api/v1/app/${appId}/msg/msg_nope/endpoint/${ok.id}/resend`)).status,
    ).toBe(404);
  });
});
