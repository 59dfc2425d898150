import { Context } from '@temporalio/activity';
import type { QueryResult } from '@mikro-orm/core';
import type { Orm } from '../src/db/orm';
import type { Logger } from '../src/logger';
import { idAt } from '../src/ids';
import { metrics } from '../src/metrics';
import { deleteMessagesSql, type DeletedRows } from '../src/domain/lifecycle-sql';
import type { PruneResult, RetentionApp } from '../workflows/definitions';

export type { PruneResult, RetentionApp };

/** Heartbeats between batches when run as an activity, so a long pass is seen alive (and can be cancelled). */
function heartbeat(details: unknown): void {
  try {
    Context.current().heartbeat(details);
  } catch {
    // Called outside an activity (tests, scripts): nothing to report to.
  }
}

/** Activities of the PruneExpiredPayloads workflow (retention, SPEC "Delivery semantics"). */
export function createRetentionActivities(deps: {
  orm: Orm;
  log: Logger;
  config: { HOOKFLOW_RETENTION_DAYS: number };
}) {
  const db = () => deps.orm.em.getConnection();

  /** Deletes in short statements until none is left, so no transaction holds many row locks for long. */
  async function inBatches(sql: string, batchSize: number, onBatch: (n: number) => void): Promise<number> {
    let total = 0;
    for (;;) {
      const result = await db().execute<QueryResult>(sql, [batchSize], 'run');
      const n = result.affectedRows;
      total += n;
      onBatch(n);
      if (n < batchSize) return total;
    }
  }

  return {
    /**
     * Deletes the content (message_content row) of every message past its own expires_at
     * (`payloadRetentionHours`); the message row, its deliveries and attempts stay until
     * the application's retention removes them (deleteExpiredMessages).
     * A delivery still pending ends as cancelled at its next attempt, which finds no payload.
     */
    async pruneExpiredPayloads(input: { batchSize?: number } = {}): Promise<PruneResult> {
      const batchSize = input.batchSize ?? 1000;
      const done: PruneResult = { payloads: 0, idempotencyRecords: 0 };
      // The index message_content_expires_idx finds each batch.
      await inBatches(
        `delete from message_content
          where msg_id in (select msg_id from message_content where expires_at < now() limit ?)`,
        batchSize,
        (n) => {
          done.payloads += n;
          metrics.payloadsPruned.inc(n);
          heartbeat(done);
        },
      );
      await inBatches(
        `delete from idempotency_records
          where key in (select key from idempotency_records where expires_at < now() limit ?)`,
        batchSize,
        (n) => {
          done.idempotencyRecords += n;
          heartbeat(done);
        },
      );
      if (done.payloads || done.idempotencyRecords) deps.log.info(done, 'retention: expired payloads pruned');
      return done;
    },

    /**
     * A page of applications (by id, after `after`) with the id below which their messages
     * are past retention: `retentionDays`, else HOOKFLOW_RETENTION_DAYS, before `now`.
     * Ids are ULIDs, so a time is an id bound (idAt) and the window is an index range.
     */
    async listRetentionApps(input: {
      after: string | null;
      limit: number;
      now: number;
    }): Promise<RetentionApp[]> {
      const rows: Array<{ id: string; retention_days: number | null }> = await db().execute(
        `select id, retention_days from applications where (?::text is null or id > ?::text) and deleted_at is null
          order by id limit ?`,
        [input.after, input.after, input.limit],
      );
      return rows.map((r) => ({
        id: r.id,
        cutoff: idAt(
          'msg',
          new Date(input.now - (r.retention_days ?? deps.config.HOOKFLOW_RETENTION_DAYS) * 86_400_000),
        ),
      }));
    },

    /**
     * Deletes one batch of an application's messages older than `cutoff` with their
     * attempts, deliveries and content, in one short transaction. Rows another worker has
     * locked are skipped (SKIP LOCKED), so several passes can run at once; a message with a
     * delivery still pending is kept until it settles (its workflow would write an attempt).
     * `next` is the highest id looked at: the caller's keyset cursor, null when none is left.
     */
    async deleteExpiredMessages(input: {
      appId: string;
      cutoff: string;
      after: string | null;
      batchSize: number;
    }): Promise<DeletedRows & { next: string | null }> {
      const rows: Array<DeletedRows & { last: string | null }> = await db().execute(
        deleteMessagesSql('m.app_id = ? and m.id < ? and (?::text is null or m.id > ?::text)', true),
        [input.appId, input.cutoff, input.after, input.after, input.batchSize],
      );
      const r = rows[0];
      const deleted = countsOf(r);
      for (const [table, n] of Object.entries(deleted)) if (n) metrics.retentionDeleted.inc({ table }, n);
      heartbeat(deleted);
      return { ...deleted, next: r?.scanned && Number(r.scanned) >= input.batchSize ? r.last : null };
    },
  };
}

function countsOf(r: Partial<DeletedRows> | undefined): DeletedRows {
  return {
    scanned: Number(r?.scanned ?? 0),
    messages: Number(r?.messages ?? 0),
    deliveries: Number(r?.deliveries ?? 0),
    attempts: Number(r?.attempts ?? 0),
    contents: Number(r?.contents ?? 0),
  };
}

export type RetentionActivities = ReturnType<typeof createRetentionActivities>;
