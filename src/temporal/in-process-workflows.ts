/**
 * A Temporal worker that runs workflow code on its own thread, without the SDK's two
 * debugging aids. By default the SDK runs workflows in a worker thread: every activation
 * crosses threads twice (a `postMessage` each way, and a wake-up of each thread), every call
 * into the sandbox runs under a `vm` timeout, for which Node starts a watchdog thread (about
 * 48 µs per call, some twenty calls per delivery), and a V8 promise hook captures a stack
 * trace of every promise a workflow makes, for the `__stack_trace` query.
 *
 * On a small machine the second thread buys little parallelism: a delivery's workflow code
 * is a few calls between the attempt's I/O. Measured in six alternated pairs of end-to-end
 * runs, workflows on the worker's thread cost 1.2 ms less CPU per delivery than on a lean
 * workflow thread (BENCHMARKS.md, round 6), and the guards cost about 2 ms more (round 4).
 *
 * This is the SDK's own in-process mode (what `debugMode` runs: `ReusableVMWorkflowCreator`)
 * through the SDK's extension point for it, `Worker.createWorkflowCreator`, with no timeout
 * and with the promise hook left out. Hookflow's workflows are its own short, reviewed code
 * with no user code inside; the cost is that a workflow stuck in a loop would hold the whole
 * process instead of failing its task, and Web UI shows no stack trace.
 * The sandbox's set-up also reaches the whole process, as it does for the SDK's own replay
 * workers: it deep-freezes the built-ins it shares with workflows (`URL`, `URLSearchParams`,
 * `TextEncoder`, `TextDecoder`, `AbortController`, `node:assert`), adds an
 * `unhandledRejection` listener that rethrows what is not a workflow's (the process still
 * exits), and formats stack traces of Error subclasses itself (same text). Hookflow never
 * writes to those built-ins, and the whole suite and the benchmarks run this way.
 * `HOOKFLOW_WORKFLOW_GUARDS=true` runs the SDK's stock worker (thread, watchdog and hook).
 * Pinned with the SDK (package-lock.json); test/in-process-workflows.test.ts fails if an
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
