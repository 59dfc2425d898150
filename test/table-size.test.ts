import { startStack, type Stack } from './harness/stack';
import { Receiver } from './harness/receiver';
import { seedApp, seedEndpoint } from './harness/seed';
import { eventually } from './harness/wait';

const TABLES = ['messages', 'message_content', 'deliveries', 'attempts'] as const;
const N = 1000;

/**
 * How much each table grows per 1,000 deliveries (docs/operations.md "Table sizes"):
 * messages with a ~500-byte payload sent through the API, each delivered once to an
 * endpoint answering 200 with a short body. Sizes include indexes and TOAST
 * (pg_total_relation_size) and the dead row versions the deliveries' updates leave
 * until autovacuum. Printed for the docs; the bounds catch a row that became much larger.
 */
describe('table size per 1,000 deliveries', () => {
  let stack: Stack;
  let receiver: Receiver;
  const db = () => stack.services.orm.em.getConnection();

  beforeAll(async () => {
    stack = await startStack();
    receiver = await new Receiver().listen();
  });
  afterAll(async () => {
    await stack?.close();
    await receiver?.close();
  });

  async function sizes(): Promise<Record<string, number>> {
    const rows: Array<{ t: string; n: string }> = await db().execute(
      `select t, pg_total_relation_size(t::regclass)::text as n from unnest(?::text[]) as t`,
      [`{${TABLES.join(',')}}`],
    );
    return Object.fromEntries(rows.map((r) => [r.t, Number(r.n)]));
  }

  /** Sends N messages to a new application's one endpoint and waits for every delivery to succeed. */
  async function deliverN(): Promise<string> {
    const appId = await seedApp(stack.services);
    await seedEndpoint(stack.services, appId, { url: receiver.url() });
    const payload = {
      type: 'invoice.paid',
      customer: { id: 'cus_0123456789', email: 'someone@example.com', name: 'Someone Example' },
      invoice: { id: 'in_0123456789', amount: 4200, currency: 'eur', lines: ['a', 'b', 'c'] },
      note: 'x'.repeat(300),
    };
    for (let i = 0; i < N; i += 25)
      await Promise.all(
        Array.from({ length: 25 }, async () => {
          const res = await stack.call('POST', `/api/v1/app/${appId}/msg`, {
            eventType: 'invoice.paid',
            payload,
          });
          expect(res.status).toBe(202);
        }),
      );
    await eventually(
      async () => {
        const r: Array<{ n: number }> = await db().execute(
          `select count(*)::int as n from deliveries where app_id = ? and state = 'success'`,
          [appId],
        );
        return r[0].n === N;
      },
      'every delivery to succeed',
      { timeoutMs: 120_000 },
    );
    return appId;
  }

  const growth = (before: Record<string, number>, after: Record<string, number>) =>
    Object.fromEntries(TABLES.map((t) => [t, after[t] - before[t]]));
  const total = (g: Record<string, number>) => Object.values(g).reduce((a, b) => a + b, 0);

  it('measures bytes per 1,000 deliveries of each table, and that deleted rows make room', async () => {
    // The suite's database is shared: rows other tests deleted left free space that new rows
    // would fill without growing the files. Compacted first, the growth is this test's own.
    await db().execute(`vacuum full ${TABLES.join(', ')}`);
    const before = await sizes();
    const appId = await deliverN();
    const first = await sizes();
    const grown = growth(before, first);
    console.log(`bytes per ${N} deliveries: ${JSON.stringify(grown)}`);
    for (const t of TABLES) {
      expect(grown[t]).toBeGreaterThan(0);
      // Under 4 kB a row (row, indexes, dead versions): an order of magnitude past today's.
      expect(grown[t]).toBeLessThan(4096 * N);
    }

    // Deleted (here by deleting the application; retention deletes the same way) and vacuumed
    // (autovacuum does this on its own), the space is reused: 1,000 more leave the tables
    // about as big as the first 1,000 did, not twice as big.
    expect((await stack.call('DELETE', `/api/v1/app/${appId}`)).status).toBe(204);
    await eventually(async () => {
      const r: Array<{ n: number }> = await db().execute(
        'select count(*)::int as n from messages where app_id = ?',
        [appId],
      );
      const app: unknown[] = await db().execute('select 1 from applications where id = ?', [appId]);
      return r[0].n === 0 && app.length === 0;
    }, 'the application deleted');
    await db().execute(`vacuum ${TABLES.join(', ')}`);
    await deliverN();
    const second = await sizes();
    console.log(
      `table bytes after ${N} deliveries: ${JSON.stringify(first)}; after ${N} deleted and ${N} more: ${JSON.stringify(second)}`,
    );
    expect(total(growth(before, second))).toBeLessThan(1.6 * total(grown));
  }, 300_000);
});
