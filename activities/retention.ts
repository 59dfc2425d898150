import { Context } from '@temporalio/activity';
import type { QueryResult } from '@mikro-orm/core';
import type { Orm } from '../src/db/orm';
import type { Logger } from '../src/logger';
import { metrics } from '../src/metrics';

export interface PruneResult {
  /** Messages whose payload was removed. */
  payloads: number;
  /** Expired idempotency records deleted. */
  idempotencyRecords: number;
}

/** Heartbeats between batches when run as an activity, so a long pass is seen alive (and can be cancelled). */
function heartbeat(details: PruneResult): void {
  try {
    Context.current().heartbeat(details);
  } catch {
    // Called outside an activity (tests, scripts): nothing to report to.
  }
}

/** Activities of the PruneExpiredPayloads workflow (payload retention, SPEC "Delivery semantics"). */
export function createRetentionActivities(deps: { orm: Orm; log: Logger }) {
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
     * Deletes the content (message_content row) of every message past its expires_at; the
     * message row, its deliveries and its attempts stay (the API then shows `payload: {}`).
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
  };
}

export type RetentionActivities = ReturnType<typeof createRetentionActivities>;
