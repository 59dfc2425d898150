import { auditDelivered } from '../harness/audit';
import { eventually } from '../harness/wait';
import { clusterForTests, postLoad } from './harness';

/**
 * An API process answers 202 once a message and its deliveries are in PostgreSQL, then
 * starts the workflows from memory. SIGKILLed mid-burst, it takes that memory with it: the
 * reconciler (a Temporal Schedule run by the workers) must start what it left.
 */
describe('cluster: an API killed mid-burst', () => {
  const t = clusterForTests({ apis: 2, workers: 2, env: { HOOKFLOW_RECONCILE_SECONDS: '5' } });

  it('leaves no message it answered 202 for undelivered', async () => {
    const { cluster, receiver } = t;
    const { appId, secret } = await cluster.appWithEndpoint(receiver.url());
    receiver.secrets = [secret];
    const [victim, survivor] = cluster.apis;
    let killed = false;
    const onVictim = postLoad(() => [victim.url], cluster.adminToken, appId, {
      count: 3000,
      concurrency: 32,
      until: () => killed,
    });
    const onSurvivor = postLoad(() => [survivor.url], cluster.adminToken, appId, {
      count: 300,
      concurrency: 4,
    });
    await eventually(() => onVictim.progress.accepted.length >= 600, '600 messages accepted by the victim', {
      timeoutMs: 120_000,
    });
    await victim.kill();
    killed = true;
    const killedAt = Date.now();
    // What it left: accepted (202 sent) but not started, as the reconciler will find it.
    const [{ left }] = await cluster.sql(
      `select count(*)::int as left from deliveries where dispatched_at is null and msg_id = any(?::text[])`,
      [`{${onVictim.progress.accepted.join(',')}}`],
    );
    const [victimResult, survivorResult] = await Promise.all([onVictim.done, onSurvivor.done]);

    expect(victimResult.statuses).toEqual(new Map());
    expect(survivorResult.statuses).toEqual(new Map());
    expect(survivorResult.noAnswer).toBe(0);
    const accepted = [...victimResult.accepted, ...survivorResult.accepted];
    await cluster.explain(auditDelivered(receiver, accepted, ['/hook'], { timeoutMs: 300_000 }));
    const seconds = ((Date.now() - killedAt) / 1000).toFixed(1);
    process.stderr.write(
      `[cluster] API kill: ${victimResult.accepted.length} accepted by the killed API, ${left} of them not yet ` +
        `started when it died; every accepted message delivered ${seconds} s after the kill (reconciler every 5 s)\n`,
    );
    // The kill really did leave work behind for the reconciler.
    expect(left).toBeGreaterThan(0);
    expect(await cluster.attemptAudit(accepted)).toMatchObject({ repeated: 0, doubleSuccess: 0 });
  });
});
