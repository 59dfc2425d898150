/**
 * The SDK's workflow thread without its two debugging aids, which cost about 2 ms of CPU per
 * delivery, a fifth of the worker's (BENCHMARKS.md, round 3):
 *
 * - every call into the workflow sandbox runs under `vm` `timeout` (deadlock detection), and
 *   Node starts a watchdog thread for each call: about 48 µs here, some twenty calls per delivery;
 * - a V8 promise hook captures a stack trace for every promise a workflow creates, for the
 *   `__stack_trace` query (Web UI's "Stack Trace" tab).
 *
 * Hookflow's workflows are its own short, reviewed code with no user code inside, so neither
 * earns its cost. `HOOKFLOW_WORKFLOW_GUARDS=true` keeps both. The SDK has no option for
 * either: the thread it starts (`workflow-worker-thread.js`) is started through a small
 * bootstrap that drops the `timeout` and keeps the SDK from installing its promise hook, then
 * loads the SDK's file unchanged. Pinned with the SDK (package-lock.json); test/lean-workflow-thread.test.ts
 * fails if an upgrade stops it taking effect.
 */
import path from 'node:path';
import * as workerThreads from 'node:worker_threads';

// The module object itself (not a namespace copy): the SDK reads `Worker` from it when it starts its threads.
const threads: { Worker: typeof workerThreads.Worker } = require('node:worker_threads');

const SDK_THREAD = path.join(
  path.dirname(require.resolve('@temporalio/worker/package.json')),
  'lib',
  'workflow',
  'workflow-worker-thread.js',
);

/** Runs in the workflow thread, before the SDK's own file. */
const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
const path = require('node:path');
const vm = require('node:vm');
const counter = new Int32Array(workerData.hookflowCalls);
const runInContext = vm.Script.prototype.runInContext;
vm.Script.prototype.runInContext = function (context, options) {
  if (options && options.timeout !== undefined) {
    const { timeout, ...rest } = options;
    Atomics.add(counter, 0, 1);
    return runInContext.call(this, context, rest);
  }
  return runInContext.call(this, context, options);
};
// The SDK's own stack-trace hook, not v8.promiseHooks itself: Node's AsyncLocalStorage, which
// the workflow's cancellation scopes rely on, makes its hooks through the same function.
const shared = require(path.join(path.dirname(workerData.hookflowTarget), 'vm-shared.js'));
shared.globalHandlers.setPromiseHook = function () {};
require(workerData.hookflowTarget);
`;
/** Sandbox calls made without a watchdog, in every lean thread of this process. */
const calls = new Int32Array(new SharedArrayBuffer(4));

export function leanCalls(): number {
  return Atomics.load(calls, 0);
}

/** Worker creations under way that want lean threads. */
let wanted = 0;
let installed = false;

/**
 * Installed once and left in place, so that creations that overlap (tests start several
 * workers) cannot restore each other's class: it applies the bootstrap only to the SDK's
 * thread, and only while a lean creation is under way.
 */
function install(): void {
  if (installed) return;
  installed = true;
  const Original = threads.Worker;
  threads.Worker = class LeanWorker extends Original {
    constructor(file: string | URL, options?: workerThreads.WorkerOptions) {
      if (wanted === 0 || file !== SDK_THREAD) super(file, options);
      else
        super(BOOTSTRAP, {
          ...options,
          eval: true,
          workerData: { hookflowTarget: SDK_THREAD, hookflowCalls: calls.buffer },
        });
    }
  };
}

/** Creates a worker (`create`) whose workflow threads are lean. */
export async function withLeanWorkflowThreads<T>(create: () => Promise<T>): Promise<T> {
  install();
  wanted++;
  try {
    return await create();
  } finally {
    wanted--;
  }
}
