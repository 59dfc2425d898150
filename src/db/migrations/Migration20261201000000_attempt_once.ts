import { Migration } from '@mikro-orm/migrations';

/**
 * One row per attempt: the record step inserts with ON CONFLICT (workflow_id, attempt_number)
 * DO NOTHING. Rows that the old one-activity attempt wrote twice for one attempt (a retry
 * after a failure past the POST) are merged first, keeping the earliest.
 *
 * A manual resend is a delivery of its own: deliveries are keyed by (message, endpoint)
 * for the scheduled delivery and its replays, and by workflow id for each resend, so a
 * resend never adds to the original's counters or state.
 */
export class Migration20261201000000_attempt_once extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
delete from attempts a using attempts b
 where a.workflow_id = b.workflow_id and a.attempt_number = b.attempt_number and a.id > b.id;
create unique index attempts_workflow_attempt_key on attempts (workflow_id, attempt_number) where workflow_id is not null;
alter table attempts add column response_truncated boolean not null default false;
alter table deliveries add column trigger text not null default 'scheduled';
alter table deliveries drop constraint deliveries_pkey;
create unique index deliveries_msg_endpoint_key on deliveries (msg_id, endpoint_id) where trigger <> 'manual';
create unique index deliveries_resend_key on deliveries (workflow_id) where trigger = 'manual';
`);
  }
}
