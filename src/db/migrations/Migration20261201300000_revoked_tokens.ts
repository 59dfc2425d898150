import { Migration } from '@mikro-orm/migrations';

/**
 * Application tokens revoked by logout before their expiry. Keyed by a hash of the token,
 * so the table holds no usable token; a row is useless once the token has expired and is
 * pruned then.
 */
export class Migration20261201300000_revoked_tokens extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
create table revoked_tokens (
  token_hash text primary key,
  expires_at timestamptz not null
);
create index revoked_tokens_expires_at_idx on revoked_tokens (expires_at);`);
  }

  override async down(): Promise<void> {
    this.addSql('drop table revoked_tokens;');
  }
}
