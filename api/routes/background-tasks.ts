import { Router, type Request } from 'express';
import { z } from 'zod';
import type { EntityManager } from '@mikro-orm/postgresql';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { BackgroundTask } from '../../src/db/entities';
import { cancelReplaySignal } from '../../workflows/definitions';
import type { ApiDeps } from '../context';
import { conflict, notFound } from '../http-errors';
import { principalOf } from '../middleware/auth';
import { keyset, page, paginationQuery } from '../pagination';
import { defineRoute } from '../route';

export const taskKinds = [
  'endpoint.recover',
  'endpoint.replay',
  'application.replay',
  'endpoint.delete',
  'application.delete',
] as const;
export const taskStatuses = ['running', 'finished', 'failed', 'cancelled'] as const;

/** Svix's BackgroundTaskOut (RecoverOut/ReplayOut are the same without `data`). */
export const backgroundTaskOut = z.object({
  id: z.string(),
  status: z.enum(taskStatuses),
  task: z.string(),
  updatedAt: z.string(),
  data: z.record(z.string(), z.unknown()),
});
const listOut = z.object({
  data: z.array(backgroundTaskOut),
  iterator: z.string().nullable(),
  prevIterator: z.string().nullable(),
  done: z.boolean(),
});

interface Row {
  id: string;
  app_id: string | null;
  task: string;
  status: BackgroundTask['status'];
  data: Record<string, unknown>;
  workflow_id: string | null;
  updated_at: string | Date;
}

export function taskOut(r: Row) {
  return {
    id: r.id,
    status: r.status,
    task: r.task,
    updatedAt: new Date(r.updated_at).toISOString(),
    data: r.data ?? {},
  };
}

/** A task by id; an app token reaches only its application's tasks (others are 404). */
export async function findTask(em: EntityManager, req: Request, id: string): Promise<Row> {
  const rows: Row[] = await em.getConnection().execute('select * from background_tasks where id = ?', [id]);
  const principal = principalOf(req);
  const row = rows[0];
  if (!row || (principal.kind === 'app' && row.app_id !== principal.appId)) throw notFound('Background task');
  return row;
}

const taskParams = z.object({ task: z.string().min(1).max(100) });

/**
 * Background tasks: recover, replay-missing and bulk replay report here. Cancelling is
 * `POST /background-task/{id}/cancel` (Hookflow extension; Svix has no cancel): the replay
 * workflow stops between chunks and marks the task cancelled with how far it got.
 */
export function backgroundTasksRouter({ orm, temporal }: ApiDeps): Router {
  const router = Router();

  defineRoute(
    router,
    {
      method: 'get',
      path: '/background-task',
      operationId: 'v1.background-task.list',
      summary: 'List background tasks, newest first',
      tag: 'Background Task',
      query: paginationQuery.extend({
        status: z.enum(taskStatuses).optional(),
        task: z.enum(taskKinds).optional(),
      }),
      responses: { 200: { description: 'A page of background tasks', schema: listOut } },
    },
    async ({ req, query: q }) => {
      const principal = principalOf(req);
      const ks = keyset(q, 'descending');
      const where: string[] = ['true'];
      const args: unknown[] = [];
      if (principal.kind === 'app') {
        where.push('app_id = ?');
        args.push(principal.appId);
      }
      if (ks.after) {
        where.push(`id ${ks.op} ?`);
        args.push(ks.after);
      }
      if (q.status) {
        where.push('status = ?');
        args.push(q.status);
      }
      if (q.task) {
        where.push('task = ?');
        args.push(q.task);
      }
      const rows: Row[] = await orm.em
        .getConnection()
        .execute(
          `select * from background_tasks where ${where.join(' and ')} order by id ${ks.dir} limit ?`,
          [...args, ks.fetch],
        );
      return { status: 200, body: page(rows, ks, q.limit, (r) => r.id, taskOut) };
    },
  );

  defineRoute(
    router,
    {
      method: 'get',
      path: '/background-task/:task',
      operationId: 'v1.background-task.get',
      summary: 'Get a background task with its progress counts',
      tag: 'Background Task',
      params: taskParams,
      responses: {
        200: { description: 'The task', schema: backgroundTaskOut },
        404: { description: 'Not found' },
      },
    },
    async ({ req, params }) => ({
      status: 200,
      body: taskOut(await findTask(orm.em.fork(), req, params.task)),
    }),
  );

  defineRoute(
    router,
    {
      method: 'post',
      path: '/background-task/:task/cancel',
      operationId: 'v1.background-task.cancel',
      summary:
        'Cancel a running replay; it stops starting deliveries and reports how far it got (deletions cannot be cancelled)',
      tag: 'Background Task',
      params: taskParams,
      responses: {
        202: {
          description: 'Cancellation requested; the task turns cancelled shortly',
          schema: backgroundTaskOut,
        },
        409: { description: 'The task is not running, or is a deletion' },
      },
    },
    async ({ req, params }) => {
      const em = orm.em.fork();
      const row = await findTask(em, req, params.task);
      if (row.status !== 'running') throw conflict(`Background task ${row.id} is ${row.status}, not running`);
      if (row.task.endsWith('.delete'))
        throw conflict(`Background task ${row.id} is a deletion, which cannot be cancelled`);
      try {
        if (!row.workflow_id) throw new WorkflowNotFoundError('no workflow', '', undefined);
        await temporal.workflow.getHandle(row.workflow_id).signal(cancelReplaySignal);
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
        // The workflow is gone (terminated in Web UI): nothing is starting deliveries any more.
        await em
          .getConnection()
          .execute(
            `update background_tasks set status = 'cancelled', updated_at = now() where id = ? and status = 'running'`,
            [row.id],
          );
      }
      return { status: 202, body: taskOut(await findTask(em, req, row.id)) };
    },
  );

  return router;
}
