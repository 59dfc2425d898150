import { randomBytes } from 'node:crypto';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import path from 'node:path';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { loadConfig, requireReady, type ReadyConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { buildServices, type Services } from '../../src/services';
import { startWorker, type RunningWorker } from '../../src/worker';
import { startApi, type RunningApi } from '../../src/api-server';

/** Hookflow's workflows plus the faulty ones of test/fixtures/workflows/faulty.ts (`Spin`, `Broken`), bundled. */
export function faultyWorkflowsBundle(): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({
    workflowsPath: require.resolve(path.join(__dirname, '..', 'fixtures', 'workflows', 'faulty')),
    logger: { log() {}, info() {}, warn() {}, error: console.error, debug() {}, trace() {} } as never,
  });
}

/** Both values of HOOKFLOW_WORKFLOW_RUNNER: the delivery tests run in each. */
export const WORKFLOW_RUNNERS = ['thread', 'in-process'] as const;

export interface Stack {
  config: ReadyConfig;
  services: Services;
  worker: RunningWorker | null;
  api: RunningApi;
  url: string;
  adminToken: string;
  /** Calls the API with the admin token (or the given one) and returns status and JSON body. */
  call(
    method: string,
    path: string,
    body?: unknown,
    token?: string | null,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: any; headers: Headers }>;
  restartWorker(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The API and a worker as production runs them, in this process, against the run's real
 * PostgreSQL and Temporal server. Each stack has its own task queue, so tests do not
 * deliver each other's messages.
 */
export async function startStack(
  env: Record<string, string> = {},
  opts: {
    worker?: boolean;
    spanProcessor?: SpanProcessor;
    bundle?: WorkflowBundleWithSourceMap | { codePath: string };
  } = {},
): Promise<Stack> {
  const adminToken = `test_admin_${randomBytes(12).toString('hex')}`;
  const config = requireReady(
    loadConfig({
      ...process.env,
      HOOKFLOW_ADMIN_TOKEN: adminToken,
      HOOKFLOW_SECRET_KEY: randomBytes(32).toString('base64'),
      HOOKFLOW_ALLOWED_CIDRS: '127.0.0.0/8,::1/128',
      TEMPORAL_TASK_QUEUE: `test-${randomBytes(6).toString('hex')}`,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
      PORT: '0',
      HOST: '127.0.0.1',
      ...env,
    }),
    ['DATABASE_URL', 'TEMPORAL_ADDRESS', 'HOOKFLOW_ADMIN_TOKEN', 'HOOKFLOW_SECRET_KEY'],
  );
  const services = await buildServices(config, createLogger(config.LOG_LEVEL), {
    spanProcessor: opts.spanProcessor,
  });
  const bundle = opts.bundle ?? { codePath: process.env.HOOKFLOW_TEST_BUNDLE! };
  let worker = opts.worker === false ? null : await startWorker(services, { bundle });
  const api = await startApi(services);
  const stack: Stack = {
    config,
    services,
    worker,
    api,
    url: api.url,
    adminToken,
    async call(method, path, body, token = adminToken, headers = {}) {
      const res = await fetch(`${api.url}${path}`, {
        method,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        /* not JSON */
      }
      return { status: res.status, body: parsed, headers: res.headers };
    },
    async restartWorker() {
      await worker?.shutdown();
      worker = await startWorker(services, { bundle });
      stack.worker = worker;
    },
    async close() {
      await api.close();
      await worker?.shutdown();
      await services.close();
    },
  };
  return stack;
}
