import type { Client } from '@temporalio/client';
import { openOrm } from '../src/db/orm';

const TABLES = ['messages', 'message_content', 'deliveries', 'attempts'] as const;

export interface TableBytes {
  deliveries: number;
  /** Bytes per 1,000 deliveries, by table (heap, indexes and TOAST), after the run's scenarios. */
  before: Record<string, number>;
  /** Rows left and bytes on disk after a retention pass that expired everything, and VACUUM. */
  after: Record<string, { rows: number; bytes: number }>;
  retentionSeconds: number;
}

/**
 * How big the tables are per 1,000 deliveries, then what retention leaves: the retention
 * workflow (`PruneExpiredPayloads`, as its schedule runs it) is started with a clock 100
 * days ahead, so every message of the run is past its retention.
 */
export async function tableBytes(
  databaseUrl: string,
  temporal: Client,
  taskQueue: string,
): Promise<TableBytes> {
  const orm = await openOrm(databaseUrl, 1);
  const db = orm.em.getConnection();
  const sizes = async () => {
    const out: Record<string, { rows: number; bytes: number }> = {};
    for (const t of TABLES) {
      const [r] = await db.execute(
        `select (select count(*) from ${t})::int as rows, pg_total_relation_size('${t}')::bigint as bytes`,
      );
      out[t] = { rows: Number(r.rows), bytes: Number(r.bytes) };
    }
    return out;
  };
  try {
    const first = await sizes();
    const deliveries = first.deliveries.rows;
    const before = Object.fromEntries(
      TABLES.map((t) => [t, Math.round((first[t].bytes / Math.max(1, deliveries)) * 1000)]),
    );
    const started = Date.now();
    await temporal.workflow.execute('PruneExpiredPayloads', {
      taskQueue,
      workflowId: `bench-retention-${started}`,
      args: [{ now: Date.now() + 100 * 86_400_000 }],
    });
    const retentionSeconds = (Date.now() - started) / 1000;
    for (const t of TABLES) await db.execute(`vacuum ${t}`);
    return { deliveries, before, after: await sizes(), retentionSeconds };
  } finally {
    await orm.close();
  }
}

/** Bytes on disk of the named databases (Temporal's persistence and visibility), summed. */
export async function databaseBytes(databaseUrl: string, names: string[]): Promise<number> {
  const orm = await openOrm(databaseUrl, 1);
  try {
    const [r] = await orm.em
      .getConnection()
      .execute(
        `select sum(pg_database_size(datname))::bigint as bytes from pg_database where datname in (?)`,
        [names],
      );
    return Number(r.bytes);
  } finally {
    await orm.close();
  }
}
