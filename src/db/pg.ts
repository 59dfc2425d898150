import type { Orm } from './orm';

/** The part of node-postgres' Client used here (knex's pool hands out pg Clients). */
interface PgClient {
  query(q: { name?: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
}

/**
 * One statement on a connection of the ORM's pool, past MikroORM's and knex's query
 * layers: for the ingest path, where that per-query work cost more CPU than PostgreSQL's.
 * With a `name` the statement is prepared once per connection and then only bound and
 * executed. `text` uses PostgreSQL's own `$1` placeholders.
 */
export async function pgQuery<R>(
  orm: Orm,
  q: { name?: string; text: string; values: unknown[] },
): Promise<R[]> {
  const client = orm.em.getConnection().getKnex().client as {
    acquireConnection(): Promise<PgClient>;
    releaseConnection(c: PgClient): Promise<void>;
  };
  const conn = await client.acquireConnection();
  try {
    return (await conn.query(q)).rows as R[];
  } finally {
    await client.releaseConnection(conn);
  }
}
