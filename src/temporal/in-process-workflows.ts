/**
 * The opt-in `HOOKFLOW_WORKFLOW_RUNNER=in-process` (the default, `thread`, is the SDK's own
 * worker): a Temporal worker that runs workflow code on its own thread, without the SDK's
 * deadlock detection and stack traces. The SDK runs workflows in a worker thread: every activation
 * crosses threads twice (a `postMessage` each way, and a wake-up of each thread), every call
 * into the sandbox runs under a `vm` timeout, for which Node starts a watchdog thread (about
 * 48 µs per call, some twenty calls per delivery), and a V8 promise hook captures a stack
 * trace of every promise a workflow makes, for the `__stack_trace` query.
 *
 * On a small machine the second thread buys little parallelism: a delivery's workflow code
 * is a few calls between the attempt's I/O, so this mode costs less CPU per delivery
 * (docs/design.md gives the measured figures).
 *
 * This is the SDK's own in-process mode (what `debugMode` runs: `ReusableVMWorkflowCreator`)
 * through the SDK's extension point for it, `Worker.createWorkflowCreator`, with no timeout
 * and with the promise hook left out. Hookflow's workflows are its own short, reviewed code
 * with no user code inside; the cost is that a workflow stuck in a loop would hold the whole
 * process (the API too, in `hookflow server`) instead of failing its task, Web UI shows no
 * stack trace, and it rests on the SDK's private modules (`lib/` paths, a protected method).
 * The sandbox's set-up also reaches the whole process, as it does for the SDK's own replay
 * workers: it deep-freezes the built-ins it shares with workflows (`URL`, `URLSearchParams`,
 * `TextEncoder`, `TextDecoder`, `AbortController`, `node:assert`), adds an
 * `unhandledRejection` listener that rethrows what is not a workflow's (the process still
 * exits), and formats stack traces of Error subclasses itself (same text). Hookflow never
 * writes to those built-ins; the delivery tests run in both modes.
 * Pinned with the SDK (package-lock.json); test/workflow-runner.test.ts fails if an
 * upgrade changes any of this.
 */
import { Worker } from '@temporalio/worker';
import type { CompiledWorkerOptions } from '@temporalio/worker/lib/worker-options';
import type { WorkflowCreator } from '@temporalio/worker/lib/workflow/interface';
import { invokePatchActivationCallback } from '@temporalio/worker/lib/workflow/patch-activation-callback';
import { ReusableVMWorkflowCreator } from '@temporalio/worker/lib/workflow/reusable-vm';
import { globalHandlers } from '@temporalio/worker/lib/workflow/vm-shared';
import type { WorkflowBundleWithSourceMapAndFilename } from '@temporalio/worker/lib/workflow/workflow-worker-thread/input';

/** In-process workflow creators made in this process (what the test checks). */
let created = 0;

export function inProcessWorkflowCreators(): number {
  return created;
}

export class InProcessWorker extends Worker {
  protected static override async createWorkflowCreator(
    workflowBundle: WorkflowBundleWithSourceMapAndFilename,
    compiledOptions: CompiledWorkerOptions,
  ): Promise<WorkflowCreator> {
    // Installed process-wide with the first sandbox: made a no-op before that.
    (globalHandlers as unknown as { setPromiseHook(): void }).setPromiseHook = () => {};
    const callback = compiledOptions.patchActivationCallback;
    created++;
    return ReusableVMWorkflowCreator.create(
      workflowBundle,
      // No `timeout` for vm calls: Node then starts no watchdog thread.
      undefined as unknown as number,
      new Set(compiledOptions.activities.keys()),
      callback === undefined
        ? undefined
        : (info, patchId) => invokePatchActivationCallback(callback, info, patchId),
    );
  }
}
