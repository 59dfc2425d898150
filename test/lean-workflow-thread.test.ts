import { startStack, type Stack } from './harness/stack';
import { Receiver } from './harness/receiver';
import { seedApp, seedEndpoint } from './harness/seed';
import { eventually } from './harness/wait';
import { leanCalls } from '../src/temporal/lean-workflow-thread';
import { deliveryWorkflowId } from '../workflows/definitions';

/**
 * The worker's workflow thread runs without the SDK's per-call watchdog and promise hook
 * (src/temporal/lean-workflow-thread.ts), unless HOOKFLOW_WORKFLOW_GUARDS=true. If an SDK
 * upgrade moves the thread's file or stops reading `Worker` from the module, this fails.
 */
describe('lean workflow threads', () => {
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await new Receiver().listen();
    // Failing, so each delivery stays open on its retry timer and can be queried.
    receiver.behaviour = () => ({ status: 500 });
  });
  afterAll(async () => {
    await receiver?.close();
  });

  /** Delivers one message that fails, and returns its workflow's `__stack_trace` (or why there is none). */
  async function stackTraceOfADelivery(stack: Stack): Promise<string> {
    const appId = await seedApp(stack.services);
    const ep = await seedEndpoint(stack.services, appId, { url: receiver.url() });
    const res = await stack.call('POST', `/api/v1/app/${appId}/msg`, {
      eventType: 'invoice.paid',
      payload: { n: 1 },
    });
    expect(res.status).toBe(202);
    const msgId = res.body.id as string;
    await eventually(() => receiver.countById(msgId) === 1, 'the first attempt');
    const handle = stack.services.temporal.workflow.getHandle(deliveryWorkflowId(msgId, ep.id));
    const attempts = await eventually(async () => {
      const a = await handle.query<unknown[]>('attempts');
      return a.length === 1 && a;
    }, 'the attempt in the workflow');
    expect(attempts).toHaveLength(1);
    const trace = await handle
      .query<string>('__stack_trace')
      .catch((err: Error) => `no stack trace: ${err.message}`);
    await handle.terminate('test over');
    return trace;
  }

  it('runs workflows without the watchdog and the promise hook by default', async () => {
    // (test/delivery.test.ts runs retries, timers and cancellation scopes on such a thread.)
    const before = leanCalls();
    const stack = await startStack({ HOOKFLOW_RETRY_SCHEDULE: '300' });
    try {
      expect(await stackTraceOfADelivery(stack)).toBe(
        'no stack trace: Workflow stack traces are not enabled on this worker',
      );
      // Every call into the sandbox went through the bootstrap, with its timeout dropped.
      expect(leanCalls()).toBeGreaterThan(before);
    } finally {
      await stack.close();
    }
  });

  it('keeps both with HOOKFLOW_WORKFLOW_GUARDS=true (Web UI shows the stack trace)', async () => {
    const stack = await startStack({ HOOKFLOW_RETRY_SCHEDULE: '300', HOOKFLOW_WORKFLOW_GUARDS: 'true' });
    try {
      const before = leanCalls();
      expect(await stackTraceOfADelivery(stack)).toContain('DeliverMessage');
      expect(leanCalls()).toBe(before);
    } finally {
      await stack.close();
    }
  });
});
