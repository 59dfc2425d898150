import { Context, sleep } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { Orm } from '../src/db/orm';
import type { Logger } from '../src/logger';
import { deleteMessagesSql, type DeletedRows } from '../src/domain/lifecycle-sql';
import { endpointDisabledSignal, type DeletionScope } from '../workflows/definitions';

function heartbeat(details?: unknown): void {
  try {
    Context.current().heartbeat(details);
  } catch {
    // Outside an activity.
  }
}

const visibilityQuery = (s: DeletionScope) =>
  `${s.endpointId ? `HookflowEndpoint = '${s.endpointId.replace(/'/g, '')}'` : `HookflowApp = '${s.appId.replace(/'/g, '')}'`}` +
  ` AND WorkflowType = 'DeliverMessage' AND ExecutionStatus = 'Running'`;

/** Activities of the DeleteResources workflow (endpoint and application deletion). */
export function createDeletionActivities(deps: { orm: Orm; log: Logger; temporal: Client }) {
  const db = () => deps.orm.em.getConnection();

  async function running(scope: DeletionScope): Promise<Array<{ workflowId: string; runId: string }>> {
    const found: Array<{ workflowId: string; runId: string }> = [];
    for await (const wf of deps.temporal.workflow.list({ query: visibilityQuery(scope) }))
      found.push({ workflowId: wf.workflowId, runId: wf.runId });
    return found;
  }

  return {
    /**
     * Stops the running deliveries in scope: each is signalled (it ends as cancelled, as a
     * disabled endpoint's do) and given `graceSeconds` to finish; any still running then is
     * terminated. Rows are deleted only after this, so no delivery writes behind the delete.
     */
    async stopDeliveries(input: DeletionScope & { reason: string; graceSeconds: number }): Promise<number> {
      const first = await running(input);
      for (const wf of first)
        await deps.temporal.workflow
          .getHandle(wf.workflowId, wf.runId)
          .signal(endpointDisabledSignal, { reason: input.reason })
          .catch(() => undefined); // finished meanwhile
      const deadline = Date.now() + input.graceSeconds * 1000;
      let left = first;
      while (left.length > 0 && Date.now() < deadline) {
        heartbeat(left.length);
        await sleep(500);
        left = await running(input);
      }
      for (const wf of left)
        await deps.temporal.workflow
          .getHandle(wf.workflowId, wf.runId)
          .terminate(input.reason)
          .catch(() => undefined);
      return first.length;
    },

    /** One page of an application's messages deleted with their attempts, deliveries and content. */
    async deleteAppMessages(input: {
      appId: string;
      after: string | null;
      batchSize: number;
    }): Promise<DeletedRows & { next: string | null }> {
      const rows: Array<Record<string, unknown>> = await db().execute(
        deleteMessagesSql('m.app_id = ? and (?::text is null or m.id > ?::text)', false),
        [input.appId, input.after, input.after, input.batchSize],
      );
      const r = rows[0] ?? {};
      const scanned = Number(r.scanned ?? 0);
      return {
        scanned,
        messages: Number(r.messages ?? 0),
        deliveries: Number(r.deliveries ?? 0),
        attempts: Number(r.attempts ?? 0),
        contents: Number(r.contents ?? 0),
        next: scanned >= input.batchSize ? (r.last as string) : null,
      };
    },

    /**
     * A batch of the deliveries and attempts left in scope: an endpoint's (they have no
     * foreign key to it), or an application's strays (attempts of messages already gone).
     */
    async deleteStrayRows(
      input: DeletionScope & { batchSize: number },
    ): Promise<{ deliveries: number; attempts: number }> {
      const [column, value] = input.endpointId ? ['endpoint_id', input.endpointId] : ['app_id', input.appId];
      // An application's deliveries all went with its messages (foreign key); an endpoint's
      // are found by deliveries_endpoint_idx. Attempts have an index on both columns.
      const deliveries = input.endpointId
        ? `select ctid from deliveries where endpoint_id = ? limit ? for update skip locked`
        : `select ctid from deliveries where false`;
      const rows: Array<{ deliveries: string; attempts: string }> = await db().execute(
        `with d as (
           delete from deliveries where ctid in (${deliveries}) returning 1
         ), a as (
           delete from attempts where id in (select id from attempts where ${column} = ? order by id limit ? for update skip locked)
           returning 1
         )
         select (select count(*) from d) as deliveries, (select count(*) from a) as attempts`,
        [...(input.endpointId ? [value, input.batchSize] : []), value, input.batchSize],
      );
      return { deliveries: Number(rows[0]?.deliveries ?? 0), attempts: Number(rows[0]?.attempts ?? 0) };
    },

    /** The last rows: an application's endpoints and the application itself (anything left cascades). */
    async deleteApplicationRow(input: { appId: string }): Promise<void> {
      await db().execute('delete from endpoints where app_id = ?', [input.appId]);
      await db().execute('delete from applications where id = ?', [input.appId]);
    },

    async updateDeletionTask(input: {
      taskId: string;
      status: 'running' | 'finished' | 'failed';
      data: Record<string, unknown>;
    }): Promise<void> {
      await db().execute(
        `update background_tasks set status = ?, data = data || ?::jsonb, updated_at = now()
          where id = ? and status = 'running'`,
        [input.status, JSON.stringify(input.data), input.taskId],
      );
    },
  };
}

export type DeletionActivities = ReturnType<typeof createDeletionActivities>;
