import { Migration } from '@mikro-orm/migrations';

/**
 * Payloads as the exact text received (issue 13): `jsonb` renumbered 64-bit integers,
 * turned 1e400 into null and reordered keys. Content lives in its own table, as Svix's
 * `messagecontent` does, so retention deletes a row instead of rewriting the message.
 * Existing payloads move over as `jsonb::text`, the best that is left of them.
 *
 * Idempotency records keep the first response as text (a replay answers the payload's
 * bytes too) and the request's fingerprint, so a key reused with another body is refused.
 */
export class Migration20261201100000_message_content extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
create table message_content (
  msg_id text primary key references messages (id) on delete cascade,
  payload text not null,
  expires_at timestamptz not null
);
create index message_content_expires_idx on message_content (expires_at);
insert into message_content (msg_id, payload, expires_at)
  select id, payload::text, expires_at from messages where payload is not null;
alter table messages drop column payload;

alter table idempotency_records
  add column fingerprint text,
  add column response_headers jsonb,
  add column response_body text;
update idempotency_records
   set response_headers = body -> 'headers',
       response_body = case when body -> 'body' <> 'null'::jsonb then (body -> 'body')::text end
 where body is not null;
alter table idempotency_records drop column body;
`);
  }
}
