import { Router, type Request } from 'express';
import { z } from 'zod';
import type { EntityManager } from '@mikro-orm/postgresql';
import { WorkflowNotFoundError } from '@temporalio/client';
import { cancelReplaySignal } from '../../workflows/definitions';
import type { ApiDeps } from '../context';
import { conflict, notFound } from '../http-errors';
import { principalOf } from '../middleware/auth';
import { paginationQuery } from '../pagination';
import { accepted, listOut, listPage, ok, Where } from '../resource';
import { defineRoute } from '../route';
import {
  backgroundTaskOut,
  taskFilter,
  taskKinds,
  taskOut,
  taskStatuses,
  type TaskRow as Row,
} from '../background-task-view';

/** A task by id; an app token reaches only its application's tasks (others are 404). */
export async function findTask(em: EntityManager, req: Request, id: string): Promise<Row> {
  const rows: Row[] = await em.getConnection().execute('select * from background_tasks where id = ?', [id]);
  const principal = principalOf(req);
  const row = rows[0];
  if (!row || (principal.kind === 'app' && row.app_id !== principal.appId)) throw notFound('Background task');
  return row;
}

type Connection = ReturnType<EntityManager['getConnection']>;

/** Records a task as running; with `ctx`, inside that transaction. */
export async function insertTask(
  conn: Connection,
  task: { id: string; appId: string; task: string; data: Record<string, unknown>; workflowId: string },
  ctx?: unknown,
): Promise<void> {
  await conn.execute(
    `insert into background_tasks (id, app_id, task, status, data, workflow_id) values (?, ?, ?, 'running', ?::jsonb, ?)`,
    [task.id, task.appId, task.task, JSON.stringify(task.data), task.workflowId],
    'run',
    ctx as never,
  );
}

const taskParams = z.object({ task: z.string().min(1).max(100) });

/**
 * Background tasks: recover, replay-missing, bulk replay and deletions report here, shown as
 * Svix's SDKs can read them (api/background-task-view.ts). Cancelling is
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
      summary:
        "List background tasks, newest first: Svix's kinds (recover, replay-missing), or Hookflow's when the task or status filter names one of its own",
      tag: 'Background Task',
      query: paginationQuery.extend({
        status: z.enum(taskStatuses).optional(),
        task: z.enum(taskKinds).optional(),
      }),
      responses: { 200: { description: 'A page of background tasks', schema: listOut(backgroundTaskOut) } },
    },
    async ({ req, query: q }) => {
      const principal = principalOf(req);
      return listPage(
        q,
        'descending',
        (ks) => {
          // An app token sees its application's tasks only.
          const where = principal.kind === 'app' ? new Where('app_id = ?', principal.appId) : new Where();
          // Svix's kinds only, unless a filter of ours asks for Hookflow's (api/background-task-view.ts).
          const kinds = taskFilter(q);
          where.after(ks, 'id').and(kinds.sql.join(' and '), ...kinds.args);
          return orm.em
            .getConnection()
            .execute<Row[]>(`select * from background_tasks where ${where} order by id ${ks.dir} limit ?`, [
              ...where.args,
              ks.fetch,
            ]);
        },
        (r) => r.id,
        taskOut,
      );
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
    async ({ req, params }) => ok(taskOut(await findTask(orm.em.fork(), req, params.task))),
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
      return accepted(taskOut(await findTask(em, req, row.id)));
    },
  );

  return router;
}
