import path from 'node:path';
import { DefaultLogger, NativeConnection, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { Agent } from 'undici';
import { createBaselineActivities } from './baseline-activities';

export const BASELINE_TASK_QUEUE = 'bench-baseline';

/**
 * The bare-Temporal worker, a process of its own like Hookflow's, with the same worker
 * settings as src/worker.ts (so the comparison is about the work done per delivery,
 * not about tuning) and an undici pool the size of Hookflow's.
 */
async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS! });
  const agent = new Agent({ connections: 128, keepAliveTimeout: 10_000 });
  const workflowBundle = await bundleWorkflowCode({
    workflowsPath: require.resolve(path.join(__dirname, 'baseline-workflows')),
    logger: { log() {}, info() {}, warn() {}, error: console.error, debug() {}, trace() {} } as never,
  });
  const worker = await Worker.create({
    connection,
    namespace: process.env.TEMPORAL_NAMESPACE ?? 'default',
    taskQueue: BASELINE_TASK_QUEUE,
    workflowBundle,
    activities: createBaselineActivities(agent),
    maxConcurrentActivityTaskExecutions: Number(process.env.HOOKFLOW_WORKER_CONCURRENCY ?? 100),
    maxConcurrentWorkflowTaskExecutions: 40,
    maxCachedWorkflows: Number(process.env.HOOKFLOW_WORKER_CACHE ?? 250),
  });
  const stop = () => worker.shutdown();
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  await worker.run();
  await agent.close();
  await connection.close();
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
