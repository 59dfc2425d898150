import { Migration } from '@mikro-orm/migrations';

/**
 * An application's own limit on deliveries in flight (the `maxInFlight` extension field).
 * Nullable, no default to write: null means the setting, or a fair share. Expand-only, so
 * the previous release runs beside it (it neither reads nor writes the column).
 */
export class Migration20261206100000_app_max_in_flight extends Migration {
  override async up(): Promise<void> {
    this.addSql('alter table applications add column if not exists max_in_flight integer;');
  }

  override async down(): Promise<void> {
    this.addSql('alter table applications drop column if exists max_in_flight;');
  }
}
