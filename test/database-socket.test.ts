import { existsSync } from 'node:fs';
import { openOrm } from '../src/db/orm';
import { loadConfig } from '../src/config';

/**
 * A DATABASE_URL naming a Unix socket directory (`?host=/dir`, libpq's form) connects through
 * that socket, not over TCP to the URL's host. The test stack's embedded PostgreSQL listens
 * on a socket in /tmp as well as on 127.0.0.1.
 */
describe('DATABASE_URL with a Unix socket', () => {
  it('connects through the socket', async () => {
    const tcp = new URL(process.env.DATABASE_URL!);
    const socket = `/tmp/.s.PGSQL.${tcp.port}`;
    expect(existsSync(socket)).toBe(true);
    const url = `postgresql://${tcp.username}:${tcp.password}@localhost:${tcp.port}${tcp.pathname}?host=/tmp`;
    expect(loadConfig({ DATABASE_URL: url }).DATABASE_URL).toBe(url);
    const orm = await openOrm(url, 1);
    try {
      const [row]: Array<{ addr: string | null; migrated: string }> = await orm.em
        .getConnection()
        .execute(`select inet_server_addr() as addr, count(*)::text as migrated from mikro_orm_migrations`);
      // No server address: a Unix-socket connection (over TCP it would be 127.0.0.1).
      expect(row.addr).toBeNull();
      expect(Number(row.migrated)).toBeGreaterThan(0);
    } finally {
      await orm.close();
    }
  });
});
