import { startStack, type Stack } from './harness/stack';
import { Receiver } from './harness/receiver';
import { seedApp, seedEndpoint } from './harness/seed';
import { eventually } from './harness/wait';
import vm from 'node:vm';
import { inProcessWorkflowCreators } from '../src/temporal/in-process-workflows';
import { deliveryWorkflowId } from '../workflows/definitions';

/**
 * The worker runs workflows on its own thread without the SDK's per-call watchdog and promise
 * hook (src/temporal/in-process-workflows.ts), unless HOOKFLOW_WORKFLOW_GUARDS=true. If an
 * SDK upgrade changes its extension point or the sandbox's options, this fails.
 */
describe('workflows in the worker process', () => {
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

  /** The options of every call into a sandbox made on this thread while `run` runs. */
  async function sandboxCalls<T>(run: () => Promise<T>): Promise<{ result: T; timeouts: unknown[] }> {
    const timeouts: unknown[] = [];
    const original = vm.Script.prototype.runInContext;
    const spy = jest.spyOn(vm.Script.prototype, 'runInContext').mockImplementation(function (
      this: vm.Script,
      context,
      options,
    ) {
      timeouts.push(options?.timeout);
      return original.call(this, context, options);
    });
    try {
      return { result: await run(), timeouts };
    } finally {
      spy.mockRestore();
    }
  }

  it('runs workflows on the worker thread without the watchdog and the promise hook by default', async () => {
    // (test/delivery.test.ts runs retries, timers and cancellation scopes this way.)
    const before = inProcessWorkflowCreators();
    const stack = await startStack({ HOOKFLOW_RETRY_SCHEDULE: '300' });
    try {
      expect(inProcessWorkflowCreators()).toBe(before + 1);
      const { result: trace, timeouts } = await sandboxCalls(() => stackTraceOfADelivery(stack));
      expect(trace).toBe('no stack trace: Workflow stack traces are not enabled on this worker');
      // The delivery's workflow ran here, and no call into its sandbox had a timeout.
      expect(timeouts.length).toBeGreaterThan(0);
      expect(timeouts.filter((t) => t !== undefined)).toEqual([]);
    } finally {
      await stack.close();
    }
  });

  it("keeps the SDK's thread and both aids with HOOKFLOW_WORKFLOW_GUARDS=true (Web UI shows the stack trace)", async () => {
    const before = inProcessWorkflowCreators();
    const stack = await startStack({ HOOKFLOW_RETRY_SCHEDULE: '300', HOOKFLOW_WORKFLOW_GUARDS: 'true' });
    try {
      const { result: trace, timeouts } = await sandboxCalls(() => stackTraceOfADelivery(stack));
      expect(trace).toContain('DeliverMessage');
      // Nothing ran on this thread: the workflow ran in the SDK's workflow thread.
      expect(timeouts).toEqual([]);
      expect(inProcessWorkflowCreators()).toBe(before);
    } finally {
      await stack.close();
    }
  });
});
