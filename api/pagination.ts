import { z } from 'zod';
import { queryInt } from './schema-formats';

/**
 * Svix pagination: `limit` (1..250), `iterator` (an id to continue after; a leading `-`
 * walks back from it), `order`. Ids sort by creation time, so keyset by id is by time.
 */
export const paginationQuery = z.object({
  limit: queryInt(1, 250).default(50),
  iterator: z
    .string()
    .max(100)
    .regex(/^-?[a-z]+_[0-9A-Za-z]+$|^-?[A-Za-z0-9._-]+$/, 'must be an iterator returned by a previous page')
    .nullish(),
  order: z.enum(['ascending', 'descending']).optional(),
});
export type PaginationQuery = z.infer<typeof paginationQuery>;

export interface Page<T> {
  data: T[];
  iterator: string | null;
  prevIterator: string | null;
  done: boolean;
}

export interface Keyset {
  /** Compare the key column with this value... */
  after: string | null;
  /** ...using this operator. */
  op: '>' | '<';
  /** Sort direction of the query. */
  dir: 'asc' | 'desc';
  /** Rows to fetch: one more than the limit, to know whether another page exists. */
  fetch: number;
  reversed: boolean;
}

export function keyset(q: PaginationQuery, defaultOrder: 'ascending' | 'descending'): Keyset {
  const descending = (q.order ?? defaultOrder) === 'descending';
  const reversed = !!q.iterator?.startsWith('-');
  const after = q.iterator ? q.iterator.replace(/^-/, '') : null;
  // Walking back flips the direction; the page is flipped again before it is returned.
  const forwardAsc = !descending;
  const asc = reversed ? !forwardAsc : forwardAsc;
  return { after, op: asc ? '>' : '<', dir: asc ? 'asc' : 'desc', fetch: q.limit + 1, reversed };
}

export function page<R, T>(
  rows: R[],
  ks: Keyset,
  limit: number,
  key: (row: R) => string,
  map: (row: R) => T,
): Page<T> {
  const more = rows.length > limit;
  let slice = rows.slice(0, limit);
  if (ks.reversed) slice = slice.reverse();
  const first = slice[0];
  const last = slice[slice.length - 1];
  return {
    data: slice.map(map),
    iterator: last ? key(last) : (ks.after ?? null),
    prevIterator: first ? `-${key(first)}` : null,
    done: ks.reversed ? false : !more,
  };
}
