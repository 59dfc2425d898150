import http from 'node:http';
import path from 'node:path';
import { Client } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { Agent } from 'undici';
import { createBaselineActivities } from './baseline-activities';
import { SA } from '../workflows/definitions';
import { InProcessWorker } from '../src/temporal/in-process-workflows';

export const BASELINE_TASK_QUEUE = 'bench-baseline';

/**
 * The bare-Temporal worker, a process of its own like Hookflow's, with the same slots and
 * cache as src/worker.ts and an undici pool the size of Hookflow's. It is the SDK's stock
 * worker (workflows in a thread of their own, with the SDK's deadlock timeout and promise
 * hook); with BENCH_BASELINE_IN_PROCESS=1 (`npm run bench -- --baseline-in-process`) it runs
 * its workflows as Hookflow's worker does (src/temporal/in-process-workflows.ts), which shows
 * what that tuning is worth to a bare worker too. Like `hookflow server`, it
 * starts the workflows itself, eagerly, on its own connection: the bench asks it to with
 * `POST /start` on BENCH_BASELINE_PORT (loopback), so both pay for their starts.
 */
async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const concurrency = Number(process.env.HOOKFLOW_WORKER_CONCURRENCY ?? 100);
  const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS! });
  const agent = new Agent({ connections: 128, keepAliveTimeout: 10_000 });
  const workflowBundle = await bundleWorkflowCode({
    workflowsPath: require.resolve(path.join(__dirname, 'baseline-workflows')),
    logger: { log() {}, info() {}, warn() {}, error: console.error, debug() {}, trace() {} } as never,
  });
  const WorkerClass = process.env.BENCH_BASELINE_IN_PROCESS === '1' ? InProcessWorker : Worker;
  const worker = await WorkerClass.create({
    connection,
    namespace: process.env.TEMPORAL_NAMESPACE ?? 'default',
    taskQueue: BASELINE_TASK_QUEUE,
    workflowBundle,
    activities: createBaselineActivities(agent),
    maxConcurrentActivityTaskExecutions: concurrency,
    maxConcurrentLocalActivityExecutions: concurrency,
    maxConcurrentWorkflowTaskExecutions: Math.max(40, concurrency),
    maxCachedWorkflows: Number(process.env.HOOKFLOW_WORKER_CACHE ?? 250),
  });
  const client = new Client({ connection, namespace: process.env.TEMPORAL_NAMESPACE ?? 'default' });
  const starter = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const { workflow, id, args, searchAttributes } = JSON.parse(body) as {
        workflow: string;
        id: string;
        args: unknown[];
        searchAttributes?: boolean;
      };
      client.workflow
        .start(workflow, {
          taskQueue: BASELINE_TASK_QUEUE,
          workflowId: id,
          args,
          requestEagerStart: true,
          ...(searchAttributes ? hookflowVisibility(id) : {}),
        })
        .then((h) => res.writeHead(200).end(String(h.eagerlyStarted)))
        .catch((err) => res.writeHead(500).end(String(err)));
    });
  });
  starter.listen(Number(process.env.BENCH_BASELINE_PORT ?? 0), '127.0.0.1');
  const stop = () => (starter.close(), worker.shutdown());
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  await worker.run();
  await agent.close();
  await connection.close();
}

/** What DeliverMessage is started with (src/domain/dispatcher.ts), for the same server work. */
function hookflowVisibility(id: string) {
  return {
    typedSearchAttributes: [
      { key: SA.app, value: 'app_bench' },
      { key: SA.endpoint, value: 'ep_bench' },
      { key: SA.message, value: id },
      { key: SA.eventType, value: 'invoice.paid' },
      { key: SA.trigger, value: 'scheduled' },
    ],
    staticSummary: `invoice.paid → ep_bench (scheduled)`,
  };
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
