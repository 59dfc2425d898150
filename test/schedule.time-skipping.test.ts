import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { createActivities } from '../activities';
import { SafeHttpClient } from '../activities/http-client';
import { resolveBinary, TEMPORAL_TEST_SERVER } from '../src/temporal/cli-resolver';
import { stateDir } from '../src/state';
import { startStack, type Stack } from './harness/stack';
import { Receiver } from './harness/receiver';
import { seedApp, seedEndpoint } from './harness/seed';
import type { DeliverMessageInput } from '../workflows/definitions';
import { newId } from '../src/ids';
import { registerSearchAttributes } from '../src/temporal/search-attributes';

/**
 * The real default schedule (5 s … 10 h, about 27 hours in all) on Temporal's
 * time-skipping test server: timers fire at once, and the history shows each timer's
 * duration, which must be the schedule's ±20%.
 */
describe('retry schedule (time-skipping server)', () => {
  let env: TestWorkflowEnvironment;
  let stack: Stack;
  let receiver: Receiver;
  let worker: Worker;
  let run: Promise<void>;
  const taskQueue = 'time-skipping';

  beforeAll(async () => {
    const binary = resolveBinary(TEMPORAL_TEST_SERVER, path.join(stateDir(), 'bin'));
    env = await TestWorkflowEnvironment.createTimeSkipping({
      server: { executable: { type: 'existing-path', path: binary } },
    });
    // The test server knows no custom search attributes until they are registered, as on any cluster.
    await registerSearchAttributes(env.client, 'default');
    stack = await startStack({}, { worker: false });
    receiver = await new Receiver().listen();
    const http = new SafeHttpClient({ timeoutMs: 5000, allowedCidrs: ['127.0.0.0/8'] });
    worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: { codePath: process.env.HOOKFLOW_TEST_BUNDLE! },
      activities: createActivities({ ...stack.services, http }),
    });
    run = worker.run();
  });
  afterAll(async () => {
    worker?.shutdown();
    await run;
    await stack?.close();
    await receiver?.close();
    await env?.teardown();
  });

  async function deliver(status: number, headers: Record<string, string> = {}) {
    const appId = await seedApp(stack.services);
    const ep = await seedEndpoint(stack.services, appId, { url: receiver.url() });
    const msgId = newId('msg');
    const db = stack.services.orm.em.getConnection();
    await db.execute(
      `insert into messages (id, app_id, event_type, expires_at) values (?, ?, 'a.b', now() + interval '1 day')`,
      [msgId, appId],
    );
    await db.execute(
      `insert into message_content (msg_id, payload, expires_at) values (?, '{}', now() + interval '1 day')`,
      [msgId],
    );
    receiver.behaviour = () => ({ status, headers });
    const input: DeliverMessageInput = {
      appId,
      msgId,
      endpointId: ep.id,
      eventType: 'a.b',
      trigger: 'scheduled',
      schedule: stack.config.HOOKFLOW_RETRY_SCHEDULE,
    };
    const handle = await env.client.workflow.start('DeliverMessage', {
      taskQueue,
      workflowId: `ts-${msgId}`,
      args: [input],
    });
    const result = await handle.result();
    const history = await handle.fetchHistory();
    const timers = (history.events ?? [])
      .filter((e) => e.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_TIMER_STARTED)
      .map((e) => Number(e.timerStartedEventAttributes!.startToFireTimeout!.seconds));
    return { result, timers };
  }

  it('runs the default schedule: 8 attempts, each gap within ±20% of 5,300,1800,7200,18000,36000,36000 s', async () => {
    expect(stack.config.HOOKFLOW_RETRY_SCHEDULE).toEqual([5, 300, 1800, 7200, 18000, 36000, 36000]);
    const { result, timers } = await deliver(500);
    expect(result).toEqual({ status: 'failed', attempts: 8 });
    expect(timers).toHaveLength(7);
    timers.forEach((t, i) => {
      const base = stack.config.HOOKFLOW_RETRY_SCHEDULE[i];
      expect([i, t >= Math.floor(base * 0.8) && t <= Math.ceil(base * 1.2)]).toEqual([i, true]);
    });
  });

  it('waits at least 60 s after a 429 and honours Retry-After within [delay, 2×delay]', async () => {
    const { timers } = await deliver(429, { 'retry-after': '1000' });
    // 5 s → raised to 60 s; Retry-After 1000 capped at 2×60 = 120.
    expect(timers[0]).toBe(120);
    // 300 s ±20% → Retry-After 1000 lies above 2×delay for 240..360 s? 2×240=480 < 1000, so capped at 2×delay.
    expect(timers[1]).toBeGreaterThanOrEqual(480);
    expect(timers[1]).toBeLessThanOrEqual(720);
  });
});
