import { auditDelivered } from '../harness/audit';
import { eventually } from '../harness/wait';
import { clusterForTests, postLoad } from './harness';

/**
 * Two workers share the task queue; one is SIGKILLed while attempts are in flight on it.
 * Its workflow tasks time out and run again on the other worker, which POSTs again (same
 * webhook-id): at-least-once. What must hold is that every accepted message arrives and
 * that the log records each attempt once.
 */
describe('cluster: a worker killed mid-attempt', () => {
  const t = clusterForTests({ apis: 2, workers: 2 });

  it('lets the other worker deliver every accepted message, each attempt recorded once', async () => {
    const { cluster, receiver } = t;
    const { appId, secret } = await cluster.appWithEndpoint(receiver.url());
    receiver.secrets = [secret];
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const HELD = 20;
    receiver.behaviour = (_req, n) => (n <= HELD ? { after: released } : { status: 200 });

    const load = postLoad(() => cluster.apis.map((a) => a.url), cluster.adminToken, appId, { count: 300 });
    await eventually(() => receiver.received.length >= HELD, `${HELD} attempts in flight`, {
      timeoutMs: 120_000,
    });
    const [victim] = cluster.workers;
    await victim.kill();
    // The kernel closed the dead worker's connections: those held requests were its attempts.
    const held = receiver.received.slice(0, HELD);
    await eventually(() => held.some((r) => r.clientGone), 'a held request to lose its client', {
      timeoutMs: 10_000,
    }).catch(() => undefined);
    release();
    const result = await load.done;

    expect(result.statuses).toEqual(new Map());
    expect(result.noAnswer).toBe(0);
    await cluster.explain(auditDelivered(receiver, result.accepted, ['/hook'], { timeoutMs: 300_000 }));
    const cut = held.filter((r) => r.clientGone).length;
    process.stderr.write(
      `[cluster] worker kill: ${cut} of ${HELD} held attempts were on the killed worker\n`,
    );
    expect(cut).toBeGreaterThan(0);
    const audit = await cluster.attemptAudit(result.accepted);
    expect(audit).toMatchObject({ repeated: 0, doubleSuccess: 0 });
    // One success per message: every delivery is settled and none twice.
    const [states] = await cluster.sql(
      `select count(*) filter (where state = 'success')::int as success, count(*)::int as total
         from deliveries where app_id = ?`,
      [appId],
    );
    expect(states).toEqual({ success: result.accepted.length, total: result.accepted.length });
  });
});
