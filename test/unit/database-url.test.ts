import { socketOf } from '../../src/db/database-url';

describe('socketOf (DATABASE_URL naming a Unix socket, as libpq reads it)', () => {
  it('takes the directory from `host` and the port from the URL', () => {
    expect(socketOf('postgresql://hook:pw@localhost:6432/hookflow?host=/run/postgresql')).toEqual({
      host: '/run/postgresql',
      port: 6432,
    });
  });

  it('lets a `port` parameter win, and defaults to 5432', () => {
    expect(socketOf('postgres://hook@localhost:6432/db?host=/tmp&port=7000')).toEqual({
      host: '/tmp',
      port: 7000,
    });
    expect(socketOf('postgres:///db?host=%2Fvar%2Frun%2Fpostgresql')).toEqual({
      host: '/var/run/postgresql',
      port: 5432,
    });
  });

  it('leaves TCP URLs alone, a `host` parameter naming a machine included', () => {
    expect(socketOf('postgresql://hook:pw@db.internal:5432/hookflow')).toBeUndefined();
    expect(socketOf('postgresql://hook:pw@localhost/hookflow?host=db.internal')).toBeUndefined();
    expect(socketOf('postgresql://hook:pw@localhost/hookflow?sslmode=require')).toBeUndefined();
  });
});
