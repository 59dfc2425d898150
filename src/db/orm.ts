import { MikroORM, PostgreSqlDriver, type Options } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { entities } from './entities';
import { socketOf } from './database-url';
import { Migration20261123000000_initial } from './migrations/Migration20261123000000_initial';
import { Migration20261201000000_attempt_once } from './migrations/Migration20261201000000_attempt_once';
import { Migration20261201100000_message_content } from './migrations/Migration20261201100000_message_content';
import { Migration20261201200000_data_lifecycle } from './migrations/Migration20261201200000_data_lifecycle';
import { Migration20261201300000_revoked_tokens } from './migrations/Migration20261201300000_revoked_tokens';
import { Migration20261206100000_app_max_in_flight } from './migrations/Migration20261206100000_app_max_in_flight';
import { Migration20261206200000_raw_payloads_token_expiry } from './migrations/Migration20261206200000_raw_payloads_token_expiry';

export type Orm = MikroORM;

/** Listed explicitly so the same list works from TypeScript sources and the compiled build. */
const migrationsList = [
  { name: 'Migration20261123000000_initial', class: Migration20261123000000_initial },
  { name: 'Migration20261201000000_attempt_once', class: Migration20261201000000_attempt_once },
  { name: 'Migration20261201100000_message_content', class: Migration20261201100000_message_content },
  { name: 'Migration20261201200000_data_lifecycle', class: Migration20261201200000_data_lifecycle },
  { name: 'Migration20261201300000_revoked_tokens', class: Migration20261201300000_revoked_tokens },
  { name: 'Migration20261206100000_app_max_in_flight', class: Migration20261206100000_app_max_in_flight },
  {
    name: 'Migration20261206200000_raw_payloads_token_expiry',
    class: Migration20261206200000_raw_payloads_token_expiry,
  },
];

export function ormOptions(databaseUrl: string, poolMax = 10): Options {
  return {
    driver: PostgreSqlDriver,
    clientUrl: databaseUrl,
    ...socketOf(databaseUrl),
    entities,
    extensions: [Migrator],
    migrations: { migrationsList, transactional: true, snapshot: false },
    pool: { min: 0, max: poolMax },
    // Discovery from EntitySchema only: no reflection, no decorators.
    discovery: { warnWhenNoEntities: true },
    debug: false,
    allowGlobalContext: false,
  };
}

export async function openOrm(databaseUrl: string, poolMax = 10): Promise<Orm> {
  return MikroORM.init(ormOptions(databaseUrl, poolMax));
}

export async function migrate(orm: Orm): Promise<string[]> {
  const done = await orm.getMigrator().up();
  return done.map((m) => m.name);
}

/** True while PostgreSQL answers a trivial query within the timeout. */
export async function databaseAnswers(orm: Orm, timeoutMs = 2000): Promise<boolean> {
  try {
    await Promise.race([
      orm.em.getConnection().execute('select 1'),
      new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), timeoutMs).unref()),
    ]);
    return true;
  } catch {
    return false;
  }
}
