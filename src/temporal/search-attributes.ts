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
  try {
    const existing = await client.connection.operatorService.listSearchAttributes({ namespace });
    have = new Set(Object.keys(existing.customAttributes ?? {}));
  } catch (err) {
    // The time-skipping test server can add search attributes but not list them.
    if ((err as { code?: number }).code !== 12 /* UNIMPLEMENTED */) throw err;
  }
  const missing = Object.entries(searchAttributeCliTypes).filter(([name]) => !have.has(name));
  if (missing.length === 0) return [];
  await client.connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(missing.map(([name, type]) => [name, types[type]])),
  });
  return missing.map(([name]) => name);
}
