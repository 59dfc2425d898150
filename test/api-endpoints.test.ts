import { randomBytes } from 'node:crypto';
import { Svix } from 'svix';
import { startStack, type Stack } from './harness/stack';
import { Receiver } from './harness/receiver';
import { seedApp } from './harness/seed';
import { eventually } from './harness/wait';

/** Endpoints through the management API: CRUD with both generations of names, extensions, lifecycle. */
describe('endpoints API', () => {
  let stack: Stack;
  let receiver: Receiver;
  let ops: Receiver;
  const prefix = `ept${randomBytes(4).toString('hex')}`;
  const type = (name: string) => `${prefix}.${name}`;

  async function seedEventType(
    name: string,
    fields: { example?: unknown; schemas?: unknown; archived?: boolean } = {},
  ) {
    await stack.services.orm.em
      .getConnection()
      .execute(
        'insert into event_types (name, example, schemas, archived) values (?, ?::jsonb, ?::jsonb, ?)',
        [
          name,
          fields.example === undefined ? null : JSON.stringify(fields.example),
          fields.schemas === undefined ? null : JSON.stringify(fields.schemas),
          fields.archived ?? false,
        ],
      );
  }
  const api = (method: string, path: string, body?: unknown) => stack.call(method, `/api/v1${path}`, body);
  const row = async (id: string) =>
    (await stack.services.orm.em.getConnection().execute('select * from endpoints where id = ?', [id]))[0];

  beforeAll(async () => {
    receiver = await new Receiver().listen();
    ops = await new Receiver().listen();
    stack = await startStack({
      HOOKFLOW_RETRY_SCHEDULE: '30,30',
      HOOKFLOW_OPERATIONAL_WEBHOOK_URL: ops.url('/ops'),
    });
    await seedEventType(type('user.created'), { example: { data: { name: 'Ada', id: 7 } } });
    await seedEventType(type('user.deleted'), {
      schemas: { '1': { type: 'object', examples: [{ who: 'first' }, { who: 'second' }] } },
    });
    await seedEventType(type('invoice.paid'));
  });
  afterAll(async () => {
    await stack?.close();
    await receiver?.close();
    await ops?.close();
  });

  it('creates with the older names and returns both, then reads by id and uid and lists oldest first', async () => {
    const appId = await seedApp(stack.services);
    const created = await api('POST', `/app/${appId}/endpoint`, {
      url: receiver.url('/a'),
      uid: 'first-endpoint',
      description: 'Primary',
      filterTypes: [type('user.created'), type('user.deleted')],
      rateLimit: 7,
      channels: ['project_1', 'group:2'],
      metadata: { team: 'billing' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      id: expect.stringMatching(/^ep_/),
      uid: 'first-endpoint',
      url: receiver.url('/a'),
      description: 'Primary',
      version: 1,
      disabled: false,
      eventTypes: [type('user.created'), type('user.deleted')],
      filterTypes: [type('user.created'), type('user.deleted')],
      throttleRate: 7,
      rateLimit: 7,
      channels: ['project_1', 'group:2'],
      metadata: { team: 'billing' },
      method: 'POST',
      payloadTemplate: null,
      bearerTokenSet: false,
    });
    const second = await api('POST', `/app/${appId}/endpoint`, {
      url: receiver.url('/b'),
      eventTypes: [type('invoice.paid')],
      throttleRate: 3,
    });
    expect(second.status).toBe(201);
    expect(second.body).toMatchObject({
      eventTypes: [type('invoice.paid')],
      filterTypes: [type('invoice.paid')],
      throttleRate: 3,
      rateLimit: 3,
      uid: null,
    });

    expect((await api('GET', `/app/${appId}/endpoint/${created.body.id}`)).body).toEqual(created.body);
    expect((await api('GET', `/app/${appId}/endpoint/first-endpoint`)).body).toEqual(created.body);

    // Newest first, as Svix lists endpoints.
    const page1 = await api('GET', `/app/${appId}/endpoint?limit=1`);
    expect(page1.body).toMatchObject({ data: [{ id: second.body.id }], done: false });
    const page2 = await api('GET', `/app/${appId}/endpoint?limit=1&iterator=${page1.body.iterator}`);
    expect(page2.body).toMatchObject({ data: [{ id: created.body.id }], done: true });
    const asc = await api('GET', `/app/${appId}/endpoint?order=ascending`);
    expect(asc.body.data.map((e: { id: string }) => e.id)).toEqual([created.body.id, second.body.id]);
  });

  it('works with the official svix SDK (1.x names)', async () => {
    const appId = await seedApp(stack.services);
    const svix = new Svix(stack.adminToken, { serverUrl: stack.url });
    const ep = await svix.endpoint.create(appId, {
      url: receiver.url('/sdk'),
      filterTypes: [type('user.created')],
      rateLimit: 4,
      uid: 'sdk-ep',
    });
    expect(ep).toMatchObject({
      uid: 'sdk-ep',
      filterTypes: [type('user.created')],
      rateLimit: 4,
      version: 1,
    });
    expect(ep.createdAt).toBeInstanceOf(Date);
    const patched = await svix.endpoint.patch(appId, 'sdk-ep', {
      description: 'via sdk',
      filterTypes: [type('invoice.paid')],
    });
    expect(patched).toMatchObject({
      description: 'via sdk',
      filterTypes: [type('invoice.paid')],
      rateLimit: 4,
    });
    const updated = await svix.endpoint.update(appId, ep.id, { url: receiver.url('/sdk2'), rateLimit: 9 });
    expect(updated).toMatchObject({ url: receiver.url('/sdk2'), rateLimit: 9, filterTypes: null });
    const { key } = await svix.endpoint.getSecret(appId, ep.id);
    await svix.endpoint.rotateSecret(appId, ep.id, {});
    expect((await svix.endpoint.getSecret(appId, ep.id)).key).not.toBe(key);
    await svix.endpoint.updateHeaders(appId, ep.id, { headers: { 'X-Api-Key': 'k1', 'X-Plain': 'p' } });
    expect(await svix.endpoint.getHeaders(appId, ep.id)).toEqual({
      headers: { 'x-plain': 'p' },
      sensitive: ['x-api-key'],
    });
    expect(
      await svix.endpoint.getStats(appId, ep.id, { since: new Date(Date.now() - 3600_000) }),
    ).toMatchObject({ success: 0, fail: 0 });
    const list = await svix.endpoint.list(appId);
    expect(list.data.map((e) => e.id)).toEqual([ep.id]);
    await svix.endpoint.delete(appId, ep.id);
    await expect(svix.endpoint.get(appId, ep.id)).rejects.toMatchObject({ code: 404 });
  });

  it('PUT creates under a new uid, then replaces Svix fields and keeps the extensions it was not given', async () => {
    const appId = await seedApp(stack.services);
    const put = await api('PUT', `/app/${appId}/endpoint/by-uid`, {
      url: receiver.url('/p'),
      eventTypes: [type('invoice.paid')],
      method: 'PUT',
      bearerToken: 'tok-123',
      description: 'made by PUT',
    });
    expect(put.status).toBe(201);
    expect(put.body).toMatchObject({
      uid: 'by-uid',
      method: 'PUT',
      bearerTokenSet: true,
      description: 'made by PUT',
    });

    const again = await api('PUT', `/app/${appId}/endpoint/by-uid`, { url: receiver.url('/p2'), version: 2 });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({
      id: put.body.id,
      uid: 'by-uid',
      url: receiver.url('/p2'),
      version: 2,
      description: '',
      eventTypes: null,
      filterTypes: null,
      method: 'PUT',
      bearerTokenSet: true,
    });
    expect(
      (await api('PUT', `/app/${appId}/endpoint/ep_2ZZZZZZZZZZZZZZZZZZZZZZZZZ`, { url: receiver.url() }))
        .status,
    ).toBe(404);
  });

  it('PATCH changes only what it is given; null clears, an empty type list means all', async () => {
    const appId = await seedApp(stack.services);
    const { body: ep } = await api('POST', `/app/${appId}/endpoint`, {
      url: receiver.url('/x'),
      eventTypes: [type('user.created')],
      channels: ['c1'],
      throttleRate: 5,
      bearerToken: 'secret-bearer',
      metadata: { a: '1' },
    });
    const patched = await api('PATCH', `/app/${appId}/endpoint/${ep.id}`, {
      description: 'changed',
      rateLimit: null,
      filterTypes: [],
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      description: 'changed',
      throttleRate: null,
      rateLimit: null,
      eventTypes: null,
      channels: ['c1'],
      metadata: { a: '1' },
      bearerTokenSet: true,
      url: receiver.url('/x'),
    });
    const cleared = await api('PATCH', `/app/${appId}/endpoint/${ep.id}`, {
      bearerToken: null,
      channels: null,
      method: 'PATCH',
    });
    expect(cleared.body).toMatchObject({ bearerTokenSet: false, channels: null, method: 'PATCH' });
    expect((await row(ep.id)).bearer_token_enc).toBeNull();
  });

  it('stores the bearer token sealed, never returns it, and sends it with the method and rendered template', async () => {
    const appId = await seedApp(stack.services);
    const created = await api('POST', `/app/${appId}/endpoint`, {
      url: receiver.url('/tpl'),
      eventTypes: [type('user.created')],
      method: 'PUT',
      bearerToken: 'bearer-s3cret-value',
      payloadTemplate: '{"kind": "{{event}}", "who": "{{data.name}}", "data": {{data}}, "msg": "{{msgId}}"}',
    });
    expect(created.status).toBe(201);
    expect(JSON.stringify(created.body)).not.toContain('bearer-s3cret-value');
    expect(JSON.stringify(await row(created.body.id))).not.toContain('bearer-s3cret-value');
    receiver.secrets = [(await api('GET', `/app/${appId}/endpoint/${created.body.id}/secret`)).body.key];

    const msg = await api('POST', `/app/${appId}/msg`, {
      eventType: type('user.created'),
      payload: { data: { name: 'Grace "G" Hopper' } },
    });
    expect(msg.status).toBe(202);
    const got = await eventually(
      () => receiver.received.find((r) => r.id === msg.body.id),
      'the templated delivery',
    );
    expect(got.method).toBe('PUT');
    expect(got.headers.authorization).toBe('Bearer bearer-s3cret-value');
    expect(got.verified).toBe(true);
    expect(JSON.parse(got.body)).toEqual({
      kind: type('user.created'),
      who: 'Grace "G" Hopper',
      data: { name: 'Grace "G" Hopper' },
      msg: msg.body.id,
    });
  });

  it('refuses a template that does not render for the subscribed event type, saying where', async () => {
    const appId = await seedApp(stack.services);
    const bad = await api('POST', `/app/${appId}/endpoint`, {
      url: receiver.url(),
      eventTypes: [type('user.created')],
      payloadTemplate: '{"who": {{data.nickname}}}',
    });
    expect(bad.status).toBe(422);
    expect(bad.body.detail).toEqual([
      { loc: ['body', 'payloadTemplate'], msg: expect.stringMatching(/valid JSON/), type: 'value_error' },
    ]);

    const unescaped = await api('POST', `/app/${appId}/endpoint`, {
      url: receiver.url(),
      payloadTemplate: '{"a": "{{{event}}}"}',
    });
    expect(unescaped.status).toBe(422);
    expect(unescaped.body.detail[0]).toMatchObject({
      loc: ['body', 'payloadTemplate'],
      msg: expect.stringMatching(/Unescaped variable/),
    });

    // A template valid for one type becomes invalid when the subscription changes to a type without that field.
    const ok = await api('POST', `/app/${appId}/endpoint`, {
      url: receiver.url(),
      eventTypes: [type('user.created')],
      payloadTemplate: '{"id": {{data.id}}}',
    });
    expect(ok.status).toBe(201);
    const moved = await api('PATCH', `/app/${appId}/endpoint/${ok.body.id}`, {
      eventTypes: [type('user.deleted')],
    });
    expect(moved.status).toBe(422);
    expect(moved.body.detail[0].loc).toEqual(['body', 'payloadTemplate']);
    expect((await row(ok.body.id)).event_types).toEqual([type('user.created')]);
    const rows = await stack.services.orm.em
      .getConnection()
      .execute('select count(*)::int as n from endpoints where app_id = ?', [appId]);
    expect(rows[0].n).toBe(1);
  });

  it('disabling an endpoint stops a delivery that waits for its retry', async () => {
    const appId = await seedApp(stack.services);
    const failing = await new Receiver().listen();
    failing.behaviour = () => ({ status: 500 });
    try {
      const { body: ep } = await api('POST', `/app/${appId}/endpoint`, {
        url: failing.url('/fail'),
        eventTypes: [type('invoice.paid')],
      });
      const msg = await api('POST', `/app/${appId}/msg`, {
        eventType: type('invoice.paid'),
        payload: { n: 1 },
      });
      await eventually(async () => {
        const r = await stack.services.orm.em
          .getConnection()
          .execute('select count(*)::int as n from attempts where msg_id = ?', [msg.body.id]);
        return r[0].n === 1;
      }, 'the first attempt to be recorded');

      const disabled = await api('PATCH', `/app/${appId}/endpoint/${ep.id}`, { disabled: true });
      expect(disabled.body).toMatchObject({ disabled: true, disabledReason: expect.any(String) });

      const handle = stack.services.temporal.workflow.getHandle(`deliver-${msg.body.id}-${ep.id}`);
      // Stopped by the endpointDisabled signal while waiting: one attempt, no second one tried.
      expect(await handle.result()).toEqual({ status: 'cancelled', attempts: 1 });
      expect(failing.countById(msg.body.id)).toBe(1);
      const delivery = await stack.services.orm.em
        .getConnection()
        .execute('select state from deliveries where msg_id = ?', [msg.body.id]);
      expect(delivery[0].state).toBe('cancelled');

      // Re-enabled, it is routed again.
      const enabled = await api('PATCH', `/app/${appId}/endpoint/${ep.id}`, { disabled: false });
      expect(enabled.body).toMatchObject({ disabled: false, disabledReason: null });
    } finally {
      await failing.close();
    }
  });

  it('deleting an endpoint answers 204, then 404, and stops its waiting deliveries', async () => {
    const appId = await seedApp(stack.services);
    const failing = await new Receiver().listen();
    failing.behaviour = () => ({ status: 503 });
    try {
      const { body: ep } = await api('POST', `/app/${appId}/endpoint`, { url: failing.url('/gone') });
      const msg = await api('POST', `/app/${appId}/msg`, {
        eventType: type('invoice.paid'),
        payload: { n: 2 },
      });
      await eventually(() => failing.countById(msg.body.id) === 1, 'the first attempt');
      await eventually(async () => {
        const r = await stack.services.orm.em
          .getConnection()
          .execute('select count(*)::int as n from attempts where msg_id = ?', [msg.body.id]);
        return r[0].n === 1;
      }, 'the first attempt to be recorded');
      expect((await api('DELETE', `/app/${appId}/endpoint/${ep.id}`)).status).toBe(204);
      expect((await api('GET', `/app/${appId}/endpoint/${ep.id}`)).status).toBe(404);
      expect((await api('DELETE', `/app/${appId}/endpoint/${ep.id}`)).status).toBe(404);
      const handle = stack.services.temporal.workflow.getHandle(`deliver-${msg.body.id}-${ep.id}`);
      expect(await handle.result()).toEqual({ status: 'cancelled', attempts: 1 });
    } finally {
      await failing.close();
    }
  });

  it('emits operational webhooks with Svix data shapes', async () => {
    const appId = await seedApp(stack.services);
    const { body: ep } = await api('POST', `/app/${appId}/endpoint`, { url: receiver.url(), uid: 'ops-ep' });
    await api('PATCH', `/app/${appId}/endpoint/${ep.id}`, { disabled: true });
    await api('DELETE', `/app/${appId}/endpoint/${ep.id}`);
    const data = { appId, appUid: null, endpointId: ep.id, endpointUid: 'ops-ep' };
    const events = await eventually(() => {
      const mine = ops.received.map((r) => JSON.parse(r.body)).filter((e) => e.data?.endpointId === ep.id);
      return mine.length >= 4 ? mine : null;
    }, 'four operational events');
    const byType = Object.fromEntries(events.map((e) => [e.type, e.data]));
    expect(byType['endpoint.created']).toEqual(data);
    expect(byType['endpoint.updated']).toEqual(data);
    expect(byType['endpoint.disabled']).toEqual({ ...data, trigger: 'manual' });
    expect(byType['endpoint.deleted']).toEqual(data);
  });

  it('send-example delivers the example to this endpoint only', async () => {
    const appId = await seedApp(stack.services);
    const target = await api('POST', `/app/${appId}/endpoint`, {
      url: receiver.url('/example'),
      eventTypes: [type('invoice.paid')],
    });
    const other = await api('POST', `/app/${appId}/endpoint`, { url: receiver.url('/other') });
    receiver.secrets = [(await api('GET', `/app/${appId}/endpoint/${target.body.id}/secret`)).body.key];

    const sent = await api('POST', `/app/${appId}/endpoint/${target.body.id}/send-example`, {
      eventType: type('user.deleted'),
      exampleIndex: 1,
    });
    expect(sent.status).toBe(200);
    expect(sent.body).toMatchObject({
      id: expect.stringMatching(/^msg_/),
      eventType: type('user.deleted'),
      payload: { who: 'second' },
    });
    const got = await eventually(
      () => receiver.received.find((r) => r.id === sent.body.id),
      'the example delivery',
    );
    expect(got.path).toBe('/example');
    expect(got.verified).toBe(true);
    expect(JSON.parse(got.body)).toEqual({ who: 'second' });

    const ping = await api('POST', `/app/${appId}/endpoint/${target.body.id}/send-example`, {
      eventType: 'svix.ping',
    });
    expect(ping.status).toBe(200);
    await eventually(() => receiver.received.find((r) => r.id === ping.body.id), 'the ping');
    const deliveries: Array<{ endpoint_id: string }> = await stack.services.orm.em
      .getConnection()
      .execute('select endpoint_id from deliveries where msg_id in (?, ?)', [sent.body.id, ping.body.id]);
    expect(deliveries.map((d) => d.endpoint_id)).toEqual([target.body.id, target.body.id]);
    expect(receiver.received.filter((r) => r.path === '/other')).toHaveLength(0);
    void other;

    const noExample = await api('POST', `/app/${appId}/endpoint/${target.body.id}/send-example`, {
      eventType: type('invoice.paid'),
    });
    expect(noExample.status).toBe(422);
    expect(noExample.body.detail[0].loc).toEqual(['body', 'eventType']);
  });

  it('stats count deliveries by state and report attempt health', async () => {
    const appId = await seedApp(stack.services);
    const { body: ep } = await api('POST', `/app/${appId}/endpoint`, {
      url: receiver.url('/stats'),
      eventTypes: [type('user.created')],
    });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push(
        (await api('POST', `/app/${appId}/msg`, { eventType: type('user.created'), payload: { i } })).body.id,
      );
    await eventually(async () => {
      const r = await stack.services.orm.em
        .getConnection()
        .execute(`select count(*)::int as n from deliveries where endpoint_id = ? and state = 'success'`, [
          ep.id,
        ]);
      return r[0].n === 3;
    }, 'three successful deliveries');
    const stats = await api('GET', `/app/${appId}/endpoint/${ep.id}/stats`);
    expect(stats.status).toBe(200);
    expect(stats.body).toMatchObject({
      success: 3,
      pending: 0,
      sending: 0,
      fail: 0,
      canceled: 0,
      successRate: 1,
      lastStatuses: [200, 200, 200],
    });
    expect(stats.body.avgResponseMs).toEqual(expect.any(Number));
    expect(stats.body.p95ResponseMs).toEqual(expect.any(Number));

    const past = await api('GET', `/app/${appId}/endpoint/${ep.id}/stats?until=2001-01-01T00:00:00Z`);
    expect(past.body).toMatchObject({ success: 0, successRate: null, lastStatuses: [] });
    expect((await api('GET', `/app/${appId}/endpoint/${ep.id}/stats?since=yesterday`)).status).toBe(422);
  });
});
