import vm from 'node:vm';
import { randomBytes } from 'node:crypto';
import type { temporal } from '@temporalio/proto';
import { faultyWorkflowsBundle, startStack, type Stack } from './harness/stack';
import { Receiver } from './harness/receiver';
import { seedApp, seedEndpoint } from './harness/seed';
import { eventually } from './harness/wait';
import { inProcessWorkflowCreators } from '../src/temporal/in-process-workflows';
import { deliveryWorkflowId } from '../workflows/definitions';

/**
 * Where workflow code runs (HOOKFLOW_WORKFLOW_RUNNER). By default in the SDK's workflow
 * thread, with its deadlock detection and the promise hook behind `__stack_trace` (Web UI's
 * "Stack Trace" tab); `in-process` runs it on the worker's own thread without either
 * (src/temporal/in-process-workflows.ts). If an SDK upgrade changes either mode, this fails.
 * The delivery tests (delivery, attempt-once) run in both modes.
 */
describe('workflow runners', () => {
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await new Receiver().listen();
    // Failing, so each delivery stays open on its retry timer and can be queried.
    receiver.behaviour = () => ({ status: 500 });
  });
  afterAll(async () => {
    await receiver?.close();
  });

  const post = async (stack: Stack, appId: string) => {
    const res = await stack.call('POST', `/api/v1/app/${appId}/msg`, { eventType: 'a.b', payload: { n: 1 } });
    expect(res.status).toBe(202);
    return res.body.id as string;
  };

  /** Delivers one message that fails, and returns its workflow's `__stack_trace` (or why there is none). */
  async function stackTraceOfADelivery(stack: Stack): Promise<string> {
    const appId = await seedApp(stack.services);
    const ep = await seedEndpoint(stack.services, appId, { url: receiver.url() });
    const msgId = await post(stack, appId);
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

  it("runs workflows in the SDK's workflow thread by default: Web UI shows where a delivery waits", async () => {
    const before = inProcessWorkflowCreators();
    const stack = await startStack({ HOOKFLOW_RETRY_SCHEDULE: '300' });
    try {
      expect(stack.config.HOOKFLOW_WORKFLOW_RUNNER).toBe('thread');
      const { result: trace, timeouts } = await sandboxCalls(() => stackTraceOfADelivery(stack));
      // Waiting for its retry: the stack trace names the workflow and the wait.
      expect(trace).toContain('DeliverMessage');
      expect(trace).toContain('condition');
      // Nothing ran on this thread: the workflow ran in the SDK's workflow thread.
      expect(timeouts).toEqual([]);
      expect(inProcessWorkflowCreators()).toBe(before);
    } finally {
      await stack.close();
    }
  });

  it('runs workflows on the worker thread without the watchdog and the promise hook with HOOKFLOW_WORKFLOW_RUNNER=in-process', async () => {
    const before = inProcessWorkflowCreators();
    const stack = await startStack({
      HOOKFLOW_RETRY_SCHEDULE: '300',
      HOOKFLOW_WORKFLOW_RUNNER: 'in-process',
    });
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

  it('fails the task of a workflow that spins (deadlock detection) while the API keeps answering', async () => {
    const stack = await startStack(
      { HOOKFLOW_RETRY_SCHEDULE: '1' },
      { bundle: await faultyWorkflowsBundle() },
    );
    try {
      const handle = await stack.services.temporal.workflow.start('Spin', {
        taskQueue: stack.config.TEMPORAL_TASK_QUEUE,
        workflowId: `spin-${randomBytes(6).toString('hex')}`,
      });
      // The API answers on the worker's main thread while the workflow thread spins.
      const answered: number[] = [];
      let failed: temporal.api.history.v1.IHistoryEvent | undefined;
      let events: temporal.api.history.v1.IHistoryEvent[] = [];
      await eventually(
        async () => {
          const health = await fetch(`${stack.url}/api/v1/health`);
          expect(health.status).toBe(204);
          answered.push(Date.now());
          events = (await handle.fetchHistory()).events ?? [];
          failed = events.find((e) => e.workflowTaskFailedEventAttributes);
          return failed;
        },
        'the SDK to fail the spinning workflow task',
        { timeoutMs: 90_000 },
      );
      const failure = failed!.workflowTaskFailedEventAttributes!.failure!;
      expect(failure.message).toMatch(/Script execution timed out/);
      // Answers came while the task ran: between its start and its failure (server times).
      const taskStarted = events.find((e) => e.workflowTaskStartedEventAttributes)!;
      const at = (e: temporal.api.history.v1.IHistoryEvent) =>
        Number(e.eventTime!.seconds) * 1000 + Math.floor((e.eventTime!.nanos ?? 0) / 1e6);
      expect(answered.filter((t) => t > at(taskStarted) && t < at(failed!)).length).toBeGreaterThan(0);
      await handle.terminate('test over');

      // The worker survived it: a delivery still goes through.
      receiver.behaviour = () => ({ status: 200 });
      const appId = await seedApp(stack.services);
      const ep = await seedEndpoint(stack.services, appId, { url: receiver.url('/after-spin') });
      const msgId = await post(stack, appId);
      const delivery = stack.services.temporal.workflow.getHandle(deliveryWorkflowId(msgId, ep.id));
      await eventually(() => delivery.describe().then(() => true), 'the delivery to start');
      expect(await delivery.result()).toEqual({ status: 'success', attempts: 1 });
    } finally {
      receiver.behaviour = () => ({ status: 500 });
      await stack.close();
    }
  });
});
