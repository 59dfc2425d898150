import { startStack, type Stack } from './harness/stack';
import { Receiver } from './harness/receiver';
import { eventually } from './harness/wait';

/**
 * Issue 23 over plain HTTP: background tasks Svix's SDKs can decode, Svix's list orders,
 * send-example's 200, expire-all of an application's tokens, and `rateLimit: null` beside
 * `throttleRate`.
 */
describe('Svix compatibility: tasks, orders, send-example, expire-all, aliases', () => {
  let stack: Stack;
  let receiver: Receiver;

  beforeAll(async () => {
    // One quick retry, then failed: what recover is for.
    stack = await startStack({ HOOKFLOW_RETRY_SCHEDULE: '1' });
    receiver = await new Receiver().listen();
  });
  afterAll(async () => {
    await stack?.close();
    await receiver?.close();
  });

  const app = async (name = 'Compat app') =>
    (await stack.call('POST', '/api/v1/app', { name })).body.id as string;
  const endpoint = async (appId: string, body: Record<string, unknown> = {}) => {
    const res = await stack.call('POST', `/api/v1/app/${appId}/endpoint`, {
      url: receiver.url('/c'),
      ...body,
    });
    expect(res.status).toBe(201);
    return res.body.id as string;
  };
  const send = async (appId: string) =>
    (await stack.call('POST', `/api/v1/app/${appId}/msg`, { eventType: 'compat.test', payload: { n: 1 } }))
      .body.id as string;
  const taskDone = (id: string) =>
    eventually(async () => {
      const r = await stack.call('GET', `/api/v1/background-task/${id}`);
      return r.body.status !== 'running' ? r.body : null;
    }, `task ${id} to end`);

  it('lists only the task kinds and statuses of Svix’s enums; recover and replay-missing report messagesSent', async () => {
    const appId = await app();
    const failing = await endpoint(appId, { uid: 'failing' });
    receiver.behaviour = (r) => ({ status: r.path === '/c' ? 500 : 200 });
    const failed = await send(appId);
    await eventually(async () => {
      const d = await stack.call('GET', `/api/v1/app/${appId}/msg/${failed}/endpoint`);
      return d.body.data?.[0]?.status === 2;
    }, 'the delivery to fail');
    receiver.behaviour = () => ({ status: 200 });
    const since = new Date(Date.now() - 60_000).toISOString();
    const recover = await stack.call('POST', `/api/v1/app/${appId}/endpoint/${failing}/recover`, { since });
    expect(recover.status).toBe(202);
    // An endpoint created after the message: replay-missing sends it there.
    const late = await endpoint(appId, { uid: 'late' });
    const replay = await stack.call('POST', `/api/v1/app/${appId}/endpoint/${late}/replay-missing`, {
      since,
    });
    expect(replay.status).toBe(202);
    expect(await taskDone(recover.body.id)).toMatchObject({
      task: 'endpoint.recover',
      status: 'finished',
      data: { messagesSent: 1 },
    });
    expect(await taskDone(replay.body.id)).toMatchObject({
      task: 'endpoint.replay',
      status: 'finished',
      data: { messagesSent: 1 },
    });
    expect((await stack.call('DELETE', `/api/v1/app/${appId}/endpoint/${late}`)).status).toBe(204);
    const deletion = await eventually(async () => {
      const r = await stack.call('GET', '/api/v1/background-task?task=endpoint.delete&limit=250');
      return r.body.data.find((t: { data: { endpointId?: string } }) => t.data.endpointId === late);
    }, 'the deletion task');

    const listed = await stack.call('GET', '/api/v1/background-task?limit=250');
    expect(listed.status).toBe(200);
    const ids = listed.body.data.map((t: { id: string }) => t.id);
    expect(ids).toEqual(expect.arrayContaining([recover.body.id, replay.body.id]));
    expect(ids).not.toContain(deletion.id);
    for (const t of listed.body.data) {
      expect(['endpoint.recover', 'endpoint.replay']).toContain(t.task);
      expect(['running', 'finished', 'failed']).toContain(t.status);
    }

    // A cancelled recover (Hookflow's cancel route) reads as failed, saying it was cancelled.
    await stack.services.orm.em
      .getConnection()
      .execute(`update background_tasks set status = 'cancelled' where id = ?`, [recover.body.id]);
    expect((await stack.call('GET', `/api/v1/background-task/${recover.body.id}`)).body).toMatchObject({
      status: 'failed',
      data: { cancelled: true, messagesSent: 1 },
    });
    const failedOnes = await stack.call('GET', '/api/v1/background-task?status=failed&limit=250');
    expect(failedOnes.body.data.map((t: { id: string }) => t.id)).toContain(recover.body.id);
  });

  it('lists endpoints newest first, and a message’s attempted endpoints in ascending id', async () => {
    const appId = await app();
    const eps = [await endpoint(appId), await endpoint(appId), await endpoint(appId)];
    const list = await stack.call('GET', `/api/v1/app/${appId}/endpoint`);
    expect(list.body.data.map((e: { id: string }) => e.id)).toEqual([...eps].reverse());
    const asc = await stack.call('GET', `/api/v1/app/${appId}/endpoint?order=ascending`);
    expect(asc.body.data.map((e: { id: string }) => e.id)).toEqual(eps);

    const msg = await send(appId);
    const destinations = await eventually(async () => {
      const r = await stack.call('GET', `/api/v1/app/${appId}/msg/${msg}/endpoint`);
      return r.body.data?.length === 3 ? r.body : null;
    }, 'three destinations');
    expect(destinations.data.map((e: { id: string }) => e.id)).toEqual(eps);
    // Paged two at a time, still ascending.
    const first = await stack.call('GET', `/api/v1/app/${appId}/msg/${msg}/endpoint?limit=2`);
    const second = await stack.call(
      'GET',
      `/api/v1/app/${appId}/msg/${msg}/endpoint?limit=2&iterator=${first.body.iterator}`,
    );
    expect([...first.body.data, ...second.body.data].map((e: { id: string }) => e.id)).toEqual(eps);
  });

  it('answers send-example with 200 and the message, as Svix', async () => {
    const appId = await app();
    const ep = await endpoint(appId);
    const res = await stack.call('POST', `/api/v1/app/${appId}/endpoint/${ep}/send-example`, {
      eventType: 'svix.ping',
    });
    expect(res).toMatchObject({ status: 200, body: { eventType: 'svix.ping', payload: { success: true } } });
  });

  it('expires every token of an application with expire-all; tokens issued after it work', async () => {
    const appId = await app();
    const other = await app('Other');
    const portal = async (id: string, body: Record<string, unknown> = {}) =>
      (await stack.call('POST', `/api/v1/auth/app-portal-access/${id}`, body)).body.token as string;
    const reads = async (token: string, id = appId) =>
      (await stack.call('GET', `/api/v1/app/${id}`, undefined, token)).status;
    const [old1, old2, otherToken, sessionA, sessionB] = [
      await portal(appId),
      await portal(appId),
      await portal(other),
      await portal(appId, { sessionId: 'session-a' }),
      await portal(appId, { sessionId: 'session-b' }),
    ];
    expect(await reads(old1)).toBe(200);

    // Only one session's tokens.
    const bySession = await stack.call('POST', `/api/v1/auth/app/${appId}/expire-all`, {
      sessionIds: ['session-a'],
    });
    expect(bySession.status).toBe(204);
    expect(await reads(sessionA)).toBe(401);
    expect(await reads(sessionB)).toBe(200);
    expect(await reads(old1)).toBe(200);

    // Later, not now: `expiry` seconds of grace.
    expect((await stack.call('POST', `/api/v1/auth/app/${appId}/expire-all`, { expiry: 3600 })).status).toBe(
      204,
    );
    expect(await reads(old1)).toBe(200);

    expect((await stack.call('POST', `/api/v1/auth/app/${appId}/expire-all`, {})).status).toBe(204);
    for (const t of [old1, old2, sessionB]) expect(await reads(t)).toBe(401);
    expect(await reads(otherToken, other)).toBe(200);
    const fresh = await portal(appId);
    expect(await reads(fresh)).toBe(200);

    expect((await stack.call('POST', `/api/v1/auth/app/${appId}/expire-all`, {}, fresh)).status).toBe(403);
    expect((await stack.call('POST', '/api/v1/auth/app/app_nosuchthing/expire-all', {})).status).toBe(404);
    const bad = await stack.call('POST', `/api/v1/auth/app/${appId}/expire-all`, { expiry: -1 });
    expect(bad).toMatchObject({ status: 422, body: { detail: [{ loc: ['body', 'expiry'] }] } });
  });

  it('reads rateLimit: null (or filterTypes: null) beside its other name as not given', async () => {
    const appId = await app();
    const res = await stack.call('POST', `/api/v1/app/${appId}/endpoint`, {
      url: receiver.url('/rate'),
      throttleRate: 2,
      rateLimit: null,
      eventTypes: null,
      filterTypes: null,
    });
    expect(res).toMatchObject({ status: 201, body: { throttleRate: 2, rateLimit: 2, eventTypes: null } });
    const path = `/api/v1/app/${appId}/endpoint/${res.body.id}`;
    // The case: 0 (PATCH: no limit) beside a null older name.
    const cleared = await stack.call('PATCH', path, { throttleRate: 0, rateLimit: null });
    expect(cleared).toMatchObject({ status: 200, body: { throttleRate: null, rateLimit: null } });
    const five = await stack.call('PATCH', path, { throttleRate: null, rateLimit: 5 });
    expect(five).toMatchObject({ status: 200, body: { throttleRate: 5, rateLimit: 5 } });
    const put = await stack.call('PUT', path, {
      url: receiver.url('/rate'),
      throttleRate: 7,
      rateLimit: null,
    });
    expect(put).toMatchObject({ status: 200, body: { throttleRate: 7 } });
    const disagree = await stack.call('PATCH', path, { throttleRate: 3, rateLimit: 4 });
    expect(disagree).toMatchObject({ status: 422, body: { detail: [{ loc: ['body', 'rateLimit'] }] } });
  });
});
