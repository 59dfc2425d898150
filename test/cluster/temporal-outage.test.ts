import { setTimeout as sleep } from 'node:timers/promises';
import { auditDelivered } from '../harness/audit';
import { eventually } from '../harness/wait';
import { clusterForTests, postLoad } from './harness';

/**
 * The Temporal server goes away for 20 s under load. The APIs keep accepting (a message is
 * accepted once it is in PostgreSQL), the workers keep polling until it is back, and what
 * could not be started meanwhile is started by the dispatcher or the reconciler: no
 * operator restarts anything.
 */
describe('cluster: the Temporal server stopped for 20 s', () => {
  const t = clusterForTests({ apis: 2, workers: 2, env: { HOOKFLOW_RECONCILE_SECONDS: '5' } });

  it('keeps accepting, then delivers everything accepted without an operator', async () => {
    const { cluster, receiver } = t;
    const { appId, secret } = await cluster.appWithEndpoint(receiver.url());
    receiver.secrets = [secret];
    let stop = false;
    const load = postLoad(() => cluster.apis.map((a) => a.url), cluster.adminToken, appId, {
      count: 100_000,
      perSecond: 10,
      until: () => stop,
    });
    await eventually(() => receiver.received.length >= 50, 'deliveries flowing', { timeoutMs: 120_000 });

    await cluster.temporal.stop();
    const acceptedBefore = load.progress.accepted.length;
    await sleep(20_000);
    const acceptedDuring = load.progress.accepted.length - acceptedBefore;
    await cluster.temporal.start();
    const restartedAt = Date.now();
    await sleep(5_000);
    stop = true;
    const result = await load.done;

    // Not one refusal while Temporal was away, and the APIs kept storing messages.
    expect(result.statuses).toEqual(new Map());
    expect(result.noAnswer).toBe(0);
    expect(acceptedDuring).toBeGreaterThan(0);
    await cluster.explain(auditDelivered(receiver, result.accepted, ['/hook'], { timeoutMs: 300_000 }));
    process.stderr.write(
      `[cluster] Temporal outage: ${acceptedDuring} messages accepted during the 20 s, ` +
        `${result.accepted.length} in all, every one delivered ${((Date.now() - restartedAt) / 1000).toFixed(1)} s ` +
        'after the server came back\n',
    );
    for (const p of [...cluster.apis, ...cluster.workers]) expect(p.alive).toBe(true);
    expect(await cluster.attemptAudit(result.accepted)).toMatchObject({ repeated: 0, doubleSuccess: 0 });
  });
});
