import { Context } from '@temporalio/activity';
import type { Orm } from '../src/db/orm';
import type { Dispatcher, StartOutcome } from '../src/domain/dispatcher';
import type { Logger } from '../src/logger';
import {
  replayCount,
  replayDeliveryId,
  replayPage,
  type ReplayCursor,
  type ReplayQuery,
  type ReplayRow,
} from '../src/domain/replay';
import type { BackgroundTaskStatus } from '../src/db/entities';
import type { QueryResult } from '@mikro-orm/core';
import { metrics } from '../src/metrics';
import { DELIVERY_KEY } from './record';

export interface StartReplayInput {
  taskId: string;
  appId: string;
  rows: ReplayRow[];
}

export interface StartReplayResult {
  started: number;
  /** Already started under this replay's id (a restarted page): not sent again. */
  skipped: number;
}

export interface ReplayTaskUpdate {
  taskId: string;
  status: BackgroundTaskStatus;
  data: Record<string, unknown>;
}

function heartbeat(): void {
  try {
    Context.current().heartbeat();
  } catch {
    // Outside an activity (tests).
  }
}

/** Activities of the ReplayDeliveries workflow: page the query, start deliveries, record progress. */
export function createReplayActivities(deps: { orm: Orm; dispatcher: Dispatcher; log: Logger }) {
  const db = () => deps.orm.em.getConnection();
  return {
    async countReplay(query: ReplayQuery): Promise<number> {
      const total = await replayCount(db(), query);
      // Counted here, once per replay: the workflow counts its query only on its first run.
      metrics.replaysStarted.inc();
      return total;
    },

    async replayPage(input: {
      query: ReplayQuery;
      cursor: ReplayCursor | null;
      limit: number;
    }): Promise<ReplayRow[]> {
      return replayPage(db(), input.query, input.cursor, input.limit);
    },

    async startReplayDeliveries(input: StartReplayInput): Promise<StartReplayResult> {
      // In the dispatcher's fair queue: a replay takes its turns with every application's
      // deliveries, behind its own application's new messages, so it may wait; heartbeats say
      // it is alive (a worker that dies is noticed, and the chunk runs again elsewhere).
      const alive = setInterval(heartbeat, 10_000);
      let outcomes: StartOutcome[];
      try {
        outcomes = await deps.dispatcher.startReplays(
          input.rows.map((row) => ({
            ref: {
              msgId: row.msgId,
              endpointId: row.endpointId,
              appId: input.appId,
              eventType: row.eventType,
            },
            workflowId: replayDeliveryId(input.taskId, row.msgId, row.endpointId),
          })),
          input.taskId,
        );
      } finally {
        clearInterval(alive);
      }
      // Recorded after the starts, so a crash in between leaves the rows "missing" and the
      // restarted page finds them again (and is told they were already started).
      const missing = input.rows.filter((r) => r.missing);
      if (missing.length > 0) {
        await db().execute(
          `insert into deliveries (msg_id, endpoint_id, app_id, event_type, state, dispatched_at, workflow_id)
           values ${missing.map(() => `(?, ?, ?, ?, 'pending', now(), ?)`).join(', ')}
           on conflict ${DELIVERY_KEY.scheduled} do nothing`,
          missing.flatMap((r) => [
            r.msgId,
            r.endpointId,
            input.appId,
            r.eventType,
            replayDeliveryId(input.taskId, r.msgId, r.endpointId),
          ]),
        );
      }
      const started = outcomes.filter(Boolean).length;
      metrics.replayDeliveries.inc({ result: 'started' }, started);
      metrics.replayDeliveries.inc({ result: 'skipped' }, outcomes.length - started);
      return { started, skipped: outcomes.length - started };
    },

    async updateReplayTask(input: ReplayTaskUpdate): Promise<void> {
      // A finished task stays finished: a late retry of this activity must not reopen it.
      const result = await db().execute<QueryResult>(
        `update background_tasks set status = ?, data = data || ?::jsonb, updated_at = now()
          where id = ? and status = 'running'`,
        [input.status, JSON.stringify(input.data), input.taskId],
        'run',
      );
      if (input.status !== 'running' && result.affectedRows > 0)
        metrics.replaysFinished.inc({ status: input.status });
    },
  };
}

export type ReplayActivities = ReturnType<typeof createReplayActivities>;
