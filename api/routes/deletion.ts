import type { EntityManager } from '@mikro-orm/postgresql';
import { newId } from '../../src/ids';
import { SA } from '../../workflows/definitions';
import type { DeleteResourcesInput } from '../../workflows/deletion';
import type { ApiDeps } from '../context';
import { notFound, temporalUnavailable } from '../http-errors';
import { insertTask } from './background-tasks';

type Connection = ReturnType<EntityManager['getConnection']>;

/**
 * Starts the DeleteResources workflow for an application or endpoint and records it as a
 * background task (`application.delete`, `endpoint.delete`). `hide` runs in the same
 * transaction as the task's insert and makes the resource disappear from the API at once;
 * false means there was nothing to hide (404). Returns when the workflow has started.
 * The workflow is started inside the transaction, so an unreachable Temporal leaves
 * nothing hidden (503). Should the commit itself fail after that, the workflow still
 * deletes what was asked to be deleted.
 */
export async function startDeletion(
  { orm, temporal, config, log }: Pick<ApiDeps, 'orm' | 'temporal' | 'config' | 'log'>,
  scope: { appId: string; endpointId?: string },
  hide: (conn: Connection, ctx: unknown) => Promise<boolean>,
): Promise<string> {
  const taskId = newId('qtask');
  const workflowId = `delete-${taskId}`;
  const task = scope.endpointId ? 'endpoint.delete' : 'application.delete';
  await orm.em.fork().transactional(async (tx) => {
    const conn = tx.getConnection();
    const ctx = tx.getTransactionContext();
    if (!(await hide(conn, ctx))) throw notFound(scope.endpointId ? 'Endpoint' : 'Application');
    await insertTask(conn, { id: taskId, appId: scope.appId, task, data: { ...scope }, workflowId }, ctx);
    // Started before the commit: if Temporal is unreachable nothing is hidden and the
    // caller gets a 503. The workflow's first statements wait on this transaction's locks.
    const input: DeleteResourcesInput = { taskId, ...scope };
    try {
      await temporal.workflow.start('DeleteResources', {
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        workflowId,
        args: [input],
        typedSearchAttributes: [{ key: SA.app, value: scope.appId }],
        staticSummary: `${task} ${scope.endpointId ?? scope.appId}`,
      });
    } catch (err) {
      log.warn({ err: String(err), task, ...scope }, 'deletion workflow not started');
      throw temporalUnavailable('start the deletion', err);
    }
  });
  return taskId;
}
