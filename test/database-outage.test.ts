import path from 'node:path';
import { StoppablePostgres } from './harness/postgres';
import { freePort } from '../src/temporal/dev-server';
import { openOrm, migrate } from '../src/db/orm';
import { startStack } from './harness/stack';
import { Receiver } from './harness/receiver';
import { seedApp, seedEndpoint } from './harness/seed';
import { eventually } from './harness/wait';

/**
 * PostgreSQL briefly down: the API must answer 503 (never a 202 it cannot keep) and
 * recover by itself when the database is back. Uses a PostgreSQL of its own.
 */
describe('PostgreSQL outage', () => {
  it('answers 503 while the database is down, then accepts and delivers again without a restart', async () => {
    const port = await freePort();
    const dataDir = path.join(process.env.HOOKFLOW_TEST_TMP!, `pg-outage-${port}`);
    const pg = new StoppablePostgres(dataDir, port);
    const url = await pg.start();
    const orm = await openOrm(url);
    await migrate(orm);
    await orm.close();
    const stack = await startStack({ DATABASE_URL: url, HOOKFLOW_RETRY_SCHEDULE: '1,1,1,1,1' });
    const receiver = await new Receiver().listen();
    try {
      const appId = await seedApp(stack.services);
      const ep = await seedEndpoint(stack.services, appId, { url: receiver.url() });
      const before = await stack.call('POST', `/api/v1/app/${appId}/msg`, {
        eventType: 'a.b',
        payload: { n: 1 },
      });
      expect(before.status).toBe(202);

      await pg.stop();
      const during = await stack.call('POST', `/api/v1/app/${appId}/msg`, {
        eventType: 'a.b',
        payload: { n: 2 },
      });
      expect(during.status).toBe(503);
      expect(during.body.code).toBe('service_unavailable');
      expect((await stack.call('GET', '/api/v1/health', undefined, null)).status).toBe(503);

      await pg.start();
      await eventually(
        async () => (await stack.call('GET', '/api/v1/health', undefined, null)).status === 204,
        'health back to 204',
      );
      const after = await stack.call('POST', `/api/v1/app/${appId}/msg`, {
        eventType: 'a.b',
        payload: { n: 3 },
      });
      expect(after.status).toBe(202);
      await eventually(
        () => receiver.countById(before.body.id) > 0 && receiver.countById(after.body.id) > 0,
        'both accepted messages delivered',
      );
      // The refused message was never stored.
      const rows = await stack.services.orm.em
        .getConnection()
        .execute(
          'select c.payload from messages m join message_content c on c.msg_id = m.id where m.app_id = ? order by m.id',
          [appId],
        );
      expect(rows.map((r: any) => JSON.parse(r.payload).n)).toEqual([1, 3]);
      void ep;
    } finally {
      await stack.close();
      await receiver.close();
      await pg.close();
    }
  });
});
