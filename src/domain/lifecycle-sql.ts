/** Rows one batch deleted; `scanned` is how many messages the page looked at. */
export interface DeletedRows {
  scanned: number;
  messages: number;
  deliveries: number;
  attempts: number;
  contents: number;
}

/**
 * One statement that deletes a page of messages with their attempts, deliveries and
 * content (retention and application deletion). `range` selects messages `m` by an index
 * range and takes its parameters first, then the page size. Rows another transaction has
 * locked are skipped, not waited for; with `keepPending`, so is a message whose delivery
 * is still pending or sending (its workflow would write an attempt after the delete).
 * Returns the counts and the highest id of the page, the next keyset cursor.
 */
export function deleteMessagesSql(range: string, keepPending: boolean): string {
  const pending = keepPending
    ? `and not exists (select 1 from deliveries d where d.msg_id = m.id and d.state in ('pending', 'sending'))`
    : '';
  // Ids travel as arrays (`= any(...)`) rather than `in (select ...)`: the planner then
  // looks each one up by index instead of hash-joining a whole table per batch.
  return `
with page as (
  select m.id from messages m where ${range} order by m.id limit ?
), doomed as (
  select array(
    select m.id from messages m where m.id = any(array(select id from page)) ${pending} for update of m skip locked
  ) as ids
), a as (
  delete from attempts where msg_id = any((select ids from doomed)::text[]) returning 1
), d as (
  delete from deliveries where msg_id = any((select ids from doomed)::text[]) returning 1
), c as (
  delete from message_content where msg_id = any((select ids from doomed)::text[]) returning 1
), x as (
  delete from messages where id = any((select ids from doomed)::text[]) returning 1
)
select (select count(*) from page) as scanned, (select max(id) from page) as last,
       (select count(*) from x) as messages, (select count(*) from d) as deliveries,
       (select count(*) from a) as attempts, (select count(*) from c) as contents`;
}
