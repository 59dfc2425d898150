import path from 'node:path';
import { startStack } from './harness/stack';
import { Receiver } from './harness/receiver';
import { seedApp, seedEndpoint } from './harness/seed';
import { eventually } from './harness/wait';
import { spawnWorker } from './harness/processes';
import { freePort, startDevServer } from '../src/temporal/dev-server';
import { ensureReconcilerSchedule } from '../src/worker';
import { attemptsQuery } from '../workflows/definitions';

/** Faults that must lose nothing: a worker killed mid-attempt, a Temporal server restarted. */
describe('faults', () => {
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await new Receiver().listen();
  });
  afterAll(() => receiver.close());
  beforeEach(() => {
    receiver.received.length = 0;
  });

  it('completes a delivery whose worker was SIGKILLed in the middle of the attempt', async () => {
    const stack = await startStack(
      { HOOKFLOW_HTTP_TIMEOUT_MS: '2000', HOOKFLOW_RETRY_SCHEDULE: '1' },
      { worker: false },
    );
    const child = spawnWorker(stack.config);
    try {
      const appId = await seedApp(stack.services);
      const ep = await seedEndpoint(stack.services, appId, { url: receiver.url() });
      receiver.secrets = [ep.secret];
      // The first request hangs: the worker is killed while it waits for the answer.
      receiver.behaviour = (_r, n) => (n === 1 ? { hang: true } : { status: 200 });
      const res = await stack.call('POST', `/api/v1/app/${appId}/msg`, {
        eventType: 'a.b',
        payload: { crash: true },
      });
      await eventually(() => receiver.received.length === 1, 'the first request', { timeoutMs: 90_000 });
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));

      await stack.restartWorker(); // a fresh worker, in this process
      const handle = stack.services.temporal.workflow.getHandle(`deliver-${res.body.id}-${ep.id}`);
      // The attempt's timeout expires, Temporal retries the activity on the new worker.
      expect(await handle.result()).toEqual({ status: 'success', attempts: 1 });
      expect(receiver.received.map((r) => r.id)).toEqual([res.body.id, res.body.id]); // one duplicate, caused by the crash
      expect(receiver.received.every((r) => r.verified)).toBe(true);
      expect(await handle.query(attemptsQuery)).toHaveLength(1);
      const rows = await stack.services.orm.em
        .getConnection()
        .execute('select response_status_code from attempts where msg_id = ?', [res.body.id]);
      expect(rows.map((r: any) => r.response_status_code)).toEqual([200]);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await stack.close();
    }
  });

  it('accepts messages while Temporal is down and delivers them after it restarts', async () => {
    const binary = process.env.HOOKFLOW_TEST_TEMPORAL_CLI!;
    const port = await freePort();
    const dbFile = path.join(process.env.HOOKFLOW_TEST_TMP!, `temporal-restart-${port}.db`);
    let server = await startDevServer({ binary, port, dbFile, uiPort: null });
    const stack = await startStack({
      TEMPORAL_ADDRESS: server.address,
      HOOKFLOW_RECONCILE_SECONDS: '2',
      HOOKFLOW_RETRY_SCHEDULE: '1,1,1',
    });
    try {
      await ensureReconcilerSchedule(stack.services);
      const appId = await seedApp(stack.services);
      const ep = await seedEndpoint(stack.services, appId, { url: receiver.url() });
      receiver.behaviour = () => ({ status: 200 });
      const send = async (i: number) => {
        const res = await stack.call('POST', `/api/v1/app/${appId}/msg`, {
          eventType: 'a.b',
          payload: { i },
        });
        expect(res.status).toBe(202);
        return res.body.id as string;
      };
      const before = [await send(0), await send(1)];
      await eventually(() => before.every((id) => receiver.countById(id) > 0), 'deliveries before the stop');

      await server.stop();
      const during: string[] = [];
      for (let i = 0; i < 10; i++) during.push(await send(100 + i));
      expect((await stack.call('GET', '/api/v1/health', undefined, null)).status).toBe(204);

      server = await startDevServer({ binary, port, dbFile, uiPort: null });
      await eventually(
        () => during.every((id) => receiver.countById(id) > 0),
        'deliveries of messages accepted while Temporal was down',
        {
          timeoutMs: 150_000,
        },
      );
      const undispatched = await stack.services.orm.em
        .getConnection()
        .execute(
          'select count(*)::int as n from deliveries where endpoint_id = ? and dispatched_at is null',
          [ep.id],
        );
      expect(undispatched[0].n).toBe(0);
      for (const id of [...before, ...during]) expect([id, receiver.countById(id)]).toEqual([id, 1]);
    } finally {
      await stack.close();
      await server.stop();
    }
  });
});
