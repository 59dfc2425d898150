import path from 'node:path';
import { StoppablePostgres } from './harness/postgres';
import { freePort } from '../src/temporal/dev-server';
import { openOrm, migrate } from '../src/db/orm';
import { startStack, WORKFLOW_RUNNERS, type Stack } from './harness/stack';
import { Receiver } from './harness/receiver';
import { seedApp, seedEndpoint } from './harness/seed';
import { eventually } from './harness/wait';
import { spawnWorker } from './harness/processes';
import { SecretBox } from '../src/domain/crypto';
import { createActivities } from '../activities';
import { SafeHttpClient } from '../activities/http-client';
import { decide } from '../src/domain/outcome';
import { temporal } from '@temporalio/proto';

/**
 * Each attempt is POSTed and recorded once, whatever the receiver answers and whatever
 * fails between the POST and the record: a POST may repeat after a crash, the log may not.
 */
describe.each(WORKFLOW_RUNNERS)('one attempt, one record (workflows: %s)', (runner) => {
  const env = { HOOKFLOW_WORKFLOW_RUNNER: runner };
  let stack: Stack;
  let receiver: Receiver;
  beforeAll(async () => {
    stack = await startStack({
      ...env,
      HOOKFLOW_RETRY_SCHEDULE: '1,1',
      HOOKFLOW_DISABLE_AFTER_DAYS: '0',
    });
    receiver = await new Receiver().listen();
  });
  afterAll(async () => {
    await stack?.close();
    await receiver?.close();
  });
  beforeEach(() => {
    receiver.received.length = 0;
  });

  const db = () => stack.services.orm.em.getConnection();
  const deliver = async (on: Stack, appId: string, endpointId: string) => {
    const res = await on.call('POST', `/api/v1/app/${appId}/msg`, { eventType: 'a.b', payload: { n: 1 } });
    expect(res.status).toBe(202);
    const handle = on.services.temporal.workflow.getHandle(`deliver-${res.body.id}-${endpointId}`);
    await eventually(() => handle.describe().then(() => true), 'the delivery to start');
    return { msgId: res.body.id as string, result: await handle.result() };
  };
  const rowsOf = (msgId: string, on = stack) =>
    on.services.orm.em
      .getConnection()
      .execute(
        'select status, response_status_code, response, response_truncated, error_kind from attempts where msg_id = ? order by attempt_number',
        [msgId],
      );

  const bodies: Array<[string, string | Buffer, (stored: string, truncated: boolean) => void]> = [
    ['a NUL byte', 'ok\u0000done', (s) => expect(s).toBe('ok\\u0000done')],
    [
      'invalid UTF-8',
      Buffer.from([0x6f, 0x6b, 0xff, 0xfe, 0xc3, 0x28, 0x21]),
      (s) => expect(s).toBe('ok\ufffd\ufffd\ufffd(!'),
    ],
    [
      '5 MB',
      Buffer.alloc(5 * 1024 * 1024, 'x'),
      (s, truncated) => {
        expect(s).toBe('x'.repeat(20_000));
        expect(truncated).toBe(true);
      },
    ],
    ['nothing', '', (s, truncated) => expect([s, truncated]).toEqual(['', false])],
  ];
  it.each(bodies)(
    'a 2xx with %s in its body is POSTed once and recorded once',
    async (_name, body, check) => {
      const appId = await seedApp(stack.services);
      const ep = await seedEndpoint(stack.services, appId, { url: receiver.url(`/odd-${appId}`) });
      receiver.behaviour = () => ({ status: 200, body });
      const { msgId, result } = await deliver(stack, appId, ep.id);
      expect(result).toEqual({ status: 'success', attempts: 1 });
      expect(receiver.countById(msgId)).toBe(1);
      const rows = await rowsOf(msgId);
      expect(rows).toHaveLength(1);
      expect([rows[0].status, rows[0].response_status_code, rows[0].error_kind]).toEqual([0, 200, null]);
      check(rows[0].response, rows[0].response_truncated);
    },
  );

  it('a slow endpoint, answering past the workflow task timeout (10 s), is POSTed once and recorded once', async () => {
    // The local activity outlives the task's timeout: the SDK heartbeats the task meanwhile.
    const appId = await seedApp(stack.services);
    const ep = await seedEndpoint(stack.services, appId, { url: receiver.url(`/slow-${appId}`) });
    receiver.behaviour = () => ({ status: 200, delayMs: 12_000 });
    const { msgId, result } = await deliver(stack, appId, ep.id);
    expect(result).toEqual({ status: 'success', attempts: 1 });
    expect(receiver.countById(msgId)).toBe(1);
    expect((await rowsOf(msgId)).map((r: any) => r.response_status_code)).toEqual([200]);
  });

  it('keeps the URL (it may carry a token) and the response body out of the workflow history', async () => {
    const appId = await seedApp(stack.services);
    const ep = await seedEndpoint(stack.services, appId, {
      url: receiver.url('/hist?token=url-secret-4711'),
    });
    receiver.behaviour = () => ({ status: 200, body: 'response-body-4711' });
    const { msgId, result } = await deliver(stack, appId, ep.id);
    expect(result).toEqual({ status: 'success', attempts: 1 });
    const history = await stack.services.temporal.workflow
      .getHandle(`deliver-${msgId}-${ep.id}`)
      .fetchHistory();
    // The history as the server stores it: payloads are JSON text inside the protobuf bytes.
    const text = Buffer.from(temporal.api.history.v1.History.encode(history).finish()).toString('latin1');
    expect(text).toContain(msgId); // the history is readable here, so the absence below means something
    expect(text).not.toContain('url-secret-4711');
    expect(text).not.toContain('response-body-4711');
    expect((await rowsOf(msgId))[0].response).toBe('response-body-4711');
  });

  it('a step repeated after a crash writes no second row and returns the first attempt id', async () => {
    const appId = await seedApp(stack.services);
    // Disabled, so the message is not routed to it: only this test records its attempt.
    const ep = await seedEndpoint(stack.services, appId, { url: receiver.url(), disabled: true });
    const msgId = (await stack.call('POST', `/api/v1/app/${appId}/msg`, { eventType: 'x.y', payload: {} }))
      .body.id;
    const http = new SafeHttpClient({ timeoutMs: 1000, allowedCidrs: [] });
    const { recordAttempt } = createActivities({ ...stack.services, http });
    const input = {
      appId,
      msgId,
      endpointId: ep.id,
      eventType: 'x.y',
      trigger: 'scheduled' as const,
      workflowId: `test-repeat-${msgId}`,
      attemptNumber: 1,
      sent: {
        kind: 'sent' as const,
        url: receiver.url(),
        statusCode: 500,
        retryAfterSeconds: null,
        response: 'no',
        responseTruncated: false,
        durationMs: 3,
        at: new Date().toISOString(),
      },
      decision: decide({ statusCode: 500, retryAfterSeconds: null }, 1),
    };
    const first = await recordAttempt(input);
    const again = await recordAttempt({ ...input, sent: { ...input.sent, statusCode: 200 } });
    await http.close();
    expect(again.attemptId).toBe(first.attemptId);
    const rows = await db().execute('select response_status_code from attempts where workflow_id = ?', [
      input.workflowId,
    ]);
    expect(rows).toEqual([{ response_status_code: 500 }]);
    const delivery = await db().execute('select attempt_count from deliveries where msg_id = ?', [msgId]);
    expect(delivery).toEqual([{ attempt_count: 1 }]);
  });

  describe('configuration errors', () => {
    let ops: Receiver;
    let withOps: Stack;
    beforeAll(async () => {
      ops = await new Receiver().listen();
      withOps = await startStack({
        ...env,
        HOOKFLOW_RETRY_SCHEDULE: '1,1',
        HOOKFLOW_DISABLE_AFTER_DAYS: '0',
        HOOKFLOW_OPERATIONAL_WEBHOOK_URL: ops.url('/ops'),
      });
    });
    afterAll(async () => {
      await withOps?.close();
      await ops?.close();
    });

    const cases: Array<[string, (endpointId: string) => Promise<unknown>, RegExp]> = [
      [
        'a signing secret that HOOKFLOW_SECRET_KEY cannot open',
        (id) =>
          withOps.services.orm.em
            .getConnection()
            .execute('update endpoints set secret_enc = ? where id = ?', [
              new SecretBox('another key').seal('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'),
              id,
            ]),
        /cannot be decrypted/,
      ],
      [
        'a payload template that fails to render',
        (id) =>
          withOps.services.orm.em
            .getConnection()
            .execute('update endpoints set payload_template = ? where id = ?', ['{"a": {{#x}}1', id]),
        /template failed to render/,
      ],
    ];
    it.each(cases)(
      '%s fails the delivery at once, is not held against the endpoint, and alerts the operator',
      async (_name, breakIt, reason) => {
        const appId = await seedApp(withOps.services);
        const ep = await seedEndpoint(withOps.services, appId, { url: receiver.url(`/conf-${appId}`) });
        await breakIt(ep.id);
        const { msgId, result } = await deliver(withOps, appId, ep.id);
        expect(result).toEqual({ status: 'failed', attempts: 1 });
        expect(receiver.countById(msgId)).toBe(0);
        const rows = await rowsOf(msgId, withOps);
        expect(rows).toHaveLength(1);
        expect([rows[0].status, rows[0].response_status_code, rows[0].error_kind]).toEqual([
          2,
          0,
          'configuration',
        ]);
        expect(rows[0].response).toMatch(reason);
        const endpoint = await withOps.services.orm.em
          .getConnection()
          .execute('select disabled, failing_since from endpoints where id = ?', [ep.id]);
        expect(endpoint[0]).toEqual({ disabled: false, failing_since: null });
        const listed = await withOps.call('GET', `/api/v1/app/${appId}/attempt/endpoint/${ep.id}`);
        expect(listed.body.data[0]).toMatchObject({ errorKind: 'configuration', status: 2 });
        await eventually(
          () =>
            ops.received.some(
              (r) => r.body.includes('message.attempt.misconfigured') && r.body.includes(msgId),
            ),
          'the operational alert',
        );
        expect(ops.received.filter((r) => r.body.includes('message.attempt.exhausted'))).toHaveLength(0);
      },
    );
  });

  describe('failures between the POST and the record', () => {
    let pg: StoppablePostgres;
    let own: Stack;
    beforeAll(async () => {
      const port = await freePort();
      pg = new StoppablePostgres(path.join(process.env.HOOKFLOW_TEST_TMP!, `pg-attempt-${port}`), port);
      const url = await pg.start();
      const orm = await openOrm(url);
      await migrate(orm);
      await orm.close();
      own = await startStack(
        { ...env, DATABASE_URL: url, HOOKFLOW_RETRY_SCHEDULE: '1,1' },
        { worker: false },
      );
    });
    afterAll(async () => {
      await own?.close();
      await pg?.close();
    });

    /** The receiver holds its 200 until the test has stopped PostgreSQL. */
    const holdFirstAnswer = () => {
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      receiver.behaviour = (_r, n) => (n === 1 ? { status: 200, after: released } : { status: 200 });
      return release;
    };

    it('PostgreSQL down after the POST: the record waits for it; one POST, one row', async () => {
      await own.restartWorker();
      const appId = await seedApp(own.services);
      const ep = await seedEndpoint(own.services, appId, { url: receiver.url('/pg-down') });
      const release = holdFirstAnswer();
      const res = await own.call('POST', `/api/v1/app/${appId}/msg`, { eventType: 'a.b', payload: { n: 1 } });
      await eventually(() => receiver.received.length === 1, 'the POST');
      await pg.stop();
      release();
      await eventually(() => receiver.received[0].answered === 200, 'the answer');
      await pg.start();
      const handle = own.services.temporal.workflow.getHandle(`deliver-${res.body.id}-${ep.id}`);
      expect(await handle.result()).toEqual({ status: 'success', attempts: 1 });
      expect(receiver.countById(res.body.id)).toBe(1);
      const rows = await rowsOf(res.body.id, own);
      expect(rows.map((r: any) => r.response_status_code)).toEqual([200]);
    });

    it('the worker killed while the record waits for PostgreSQL: the POST repeats, the log has one row', async () => {
      await own.worker?.shutdown();
      const child = spawnWorker(own.config);
      try {
        const appId = await seedApp(own.services);
        const ep = await seedEndpoint(own.services, appId, { url: receiver.url('/killed') });
        const release = holdFirstAnswer();
        const res = await own.call('POST', `/api/v1/app/${appId}/msg`, {
          eventType: 'a.b',
          payload: { n: 2 },
        });
        await eventually(() => receiver.received.length === 1, 'the POST', { timeoutMs: 90_000 });
        await pg.stop();
        release();
        await eventually(() => receiver.received[0].answered === 200, 'the answer');
        child.kill('SIGKILL');
        await new Promise((r) => child.once('exit', r));
        await pg.start();
        await own.restartWorker();
        const handle = own.services.temporal.workflow.getHandle(`deliver-${res.body.id}-${ep.id}`);
        expect(await handle.result()).toEqual({ status: 'success', attempts: 1 });
        expect(receiver.countById(res.body.id)).toBe(2); // at least once: the crash repeats the POST
        const rows = await rowsOf(res.body.id, own);
        expect(rows.map((r: any) => r.response_status_code)).toEqual([200]);
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    });
  });
});
