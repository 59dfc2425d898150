import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { searchAttributeCliTypes } from '../../workflows/definitions';

const types: Record<string, temporal.api.enums.v1.IndexedValueType> = {
  Keyword: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  Int: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_INT,
  Datetime: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
};

/** Registers Hookflow's search attributes on a cluster that lacks them (`hookflow migrate`). */
export async function registerSearchAttributes(client: Client, namespace: string): Promise<string[]> {
  let have = new Set<string>();
  // A namespace created a moment ago (docker-compose's temporal-namespace, then migrate) is
  // "not found" until the frontend's registry refreshes: wait for it, a minute at most.
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const existing = await client.connection.operatorService.listSearchAttributes({ namespace });
      have = new Set(Object.keys(existing.customAttributes ?? {}));
      break;
    } catch (err) {
      const code = grpcCode(err);
      // The time-skipping test server can add search attributes but not list them.
      if (code === 12 /* UNIMPLEMENTED */) break;
      if (code !== 5 /* NOT_FOUND */ || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  const missing = Object.entries(searchAttributeCliTypes).filter(([name]) => !have.has(name));
  if (missing.length === 0) return [];
  await client.connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(missing.map(([name, type]) => [name, types[type]])),
  });
  await untilUsable(client);
  return missing.map(([name]) => name);
}

/**
 * A server caches the attributes it validates against (about a minute on a cluster); a
 * worker or API started before the cache knows them would have its starts and upserts
 * refused. So migrate returns only once a visibility query on them is accepted.
 */
async function untilUsable(client: Client, timeoutMs = 120_000): Promise<void> {
  const probe: Record<string, string> = {
    Keyword: `= 'probe'`,
    Int: '= 0',
    Datetime: `> '2000-01-01T00:00:00Z'`,
  };
  const query = Object.entries(searchAttributeCliTypes)
    .map(([name, type]) => `${name} ${probe[type]}`)
    .join(' AND ');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await client.workflow.count(query);
      return;
    } catch (err) {
      // The time-skipping test server has no visibility queries.
      if (grpcCode(err) === 12 /* UNIMPLEMENTED */) return;
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

/** A gRPC status code, wherever the client put it (a ServiceError carries it on its cause). */
function grpcCode(err: unknown): number | undefined {
  const e = err as { code?: number; cause?: { code?: number } };
  return e.code ?? e.cause?.code;
}
