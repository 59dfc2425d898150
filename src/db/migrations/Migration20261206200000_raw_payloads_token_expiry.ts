import { Migration } from '@mikro-orm/migrations';
/**
 * Expand only (issue 23): the previous release runs beside this schema during a rolling
 * upgrade, so nothing is renamed or dropped and every new column has a default.
 *
 * Raw payloads (`transformationsParams.rawPayload`): `message_content.payload` keeps the raw
 * text itself, so a worker of the previous release still sends those exact bytes; `raw`
 * says the text is not the JSON `payload` member (no template, shown as described in
 * docs/design.md) and `content_type` is the header it is sent with (null: application/json).
 *
 * Expire-all (`POST /auth/app/{app}/expire-all`): application tokens issued before
 * `issued_before` stop working at `expires_at` (of one portal session only when
 * `session_id` is set). App tokens live at most 7 days, so a row older than that names no
 * live token and is pruned.
 */
export class Migration20261206200000_raw_payloads_token_expiry extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
alter table message_content add column raw boolean not null default false;
alter table message_content add column content_type text;
create table app_token_expiries (
  app_id text not null references applications (id) on delete cascade,
  issued_before timestamptz not null,
  expires_at timestamptz not null,
  session_id text
);
create index app_token_expiries_app_idx on app_token_expiries (app_id, issued_before);
create index app_token_expiries_issued_idx on app_token_expiries (issued_before);`);
  }
  override async down(): Promise<void> {
    this.addSql(`
drop table app_token_expiries;
alter table message_content drop column content_type;
alter table message_content drop column raw;`);
  }
}
