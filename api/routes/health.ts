import { Router } from 'express';
import type { ApiDeps } from '../context';
import { databaseAnswers } from '../../src/db/orm';

async function timed<T>(fn: () => Promise<T>, timeoutMs = 3000) {
  const start = performance.now();
  try {
    const value = await Promise.race([
      fn(),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timed out')), timeoutMs).unref()),
    ]);
    return { ok: true as const, value, latencyMs: Math.round(performance.now() - start) };
  } catch (err) {
    return {
      ok: false as const,
      error: (err as Error).message,
      latencyMs: Math.round(performance.now() - start),
    };
  }
}

/**
 * `/health` is what a load balancer asks: 204 while messages can be accepted (PostgreSQL
 * answers). Temporal being down does not take the API out of rotation: messages wait in
 * PostgreSQL for the reconciler. `/health/details` says how each part is doing.
 */
export function healthRouter({ orm, temporal, config, dispatcher }: ApiDeps): Router {
  const router = Router();
  // Other methods get a 405 with `Allow` from the app's methodNotAllowed.
  router.get('/health', async (_req, res) => {
    res.status((await databaseAnswers(orm)) ? 204 : 503).end();
  });
  router.get('/health/ping', (_req, res) => void res.json({ response: 'pong' }));
  router.get('/health/details', async (_req, res) => {
    const [db, tmp, workers, undispatched] = await Promise.all([
      timed(() => orm.em.getConnection().execute('select 1')),
      timed(() => temporal.workflowService.getSystemInfo({})),
      timed(() =>
        temporal.workflowService.describeTaskQueue({
          namespace: config.TEMPORAL_NAMESPACE,
          taskQueue: { name: config.TEMPORAL_TASK_QUEUE },
          taskQueueType: 1, // workflow task queue
        }),
      ),
      // The partial index on undispatched deliveries keeps this cheap.
      timed(() =>
        orm.em
          .getConnection()
          .execute<Array<{ n: string }>>(
            'select count(*)::text as n from deliveries where dispatched_at is null',
          ),
      ),
    ]);
    const pollers = workers.ok ? (workers.value.pollers ?? []).length : 0;
    const state = (ok: boolean) => (ok ? 'up' : 'down');
    const body = {
      status: db.ok && tmp.ok && pollers > 0 ? 'ok' : db.ok ? 'degraded' : 'down',
      postgres: { status: state(db.ok), latencyMs: db.latencyMs, ...(db.ok ? {} : { error: db.error }) },
      temporal: {
        status: state(tmp.ok),
        latencyMs: tmp.latencyMs,
        namespace: config.TEMPORAL_NAMESPACE,
        ...(tmp.ok ? {} : { error: tmp.error }),
      },
      workers: {
        status: pollers > 0 ? 'up' : 'down',
        pollers,
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        latencyMs: workers.latencyMs,
        ...(workers.ok ? {} : { error: workers.error }),
      },
      // This API process's in-memory backlog, and what it left to the reconciler since it started.
      dispatcher: {
        ...dispatcher.stats(),
        undispatched: undispatched.ok ? Number(undispatched.value[0]?.n ?? 0) : null,
      },
      // Applications waiting, in flight and at their limit in this process (counts only: no ids on this public route).
      fairness: {
        limitPerApplication: config.HOOKFLOW_APP_MAX_IN_FLIGHT ?? 'fair share',
        ...dispatcher.fairness(),
      },
    };
    res.status(db.ok ? 200 : 503).json(body);
  });
  return router;
}
