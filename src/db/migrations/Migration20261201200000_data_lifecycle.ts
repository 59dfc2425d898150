import { Migration } from '@mikro-orm/migrations';

/**
 * Retention deletes whole messages (issue 15): each batch deletes a page of an
 * application's messages by id range (messages_app_idx), then their attempts
 * (attempts_msg_idx), deliveries and content by msg_id. Deliveries lost their primary key
 * to manual resends; the FK cascade and the retention batches need an index on msg_id.
 *
 * An application being deleted is hidden at once (`deleted_at`) while a workflow removes
 * its rows in batches; the row itself goes last.
 */
export class Migration20261201200000_data_lifecycle extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
create index deliveries_msg_idx on deliveries (msg_id);
alter table applications add column deleted_at timestamptz;
`);
  }
}
