import { setTimeout as sleep } from 'node:timers/promises';
import { auditDelivered } from '../harness/audit';
import { eventually } from '../harness/wait';
import { CURRENT, clusterForTests, type HookflowProcess } from './harness';
import { buildRelease, PREVIOUS_RELEASE } from './releases';

/**
 * A rolling upgrade under load: the previous release's build runs two APIs and two workers;
 * this release's migrations run beside it (expand/contract: nothing the running release
 * reads is dropped), then each worker and each API is replaced by this release's, one at a
 * time, on the same port. Retries started by old workers finish on new ones (their
 * histories replay). Clients see no error but refused connections to the API being
 * replaced, and nothing accepted is lost.
 */
describe(`cluster: rolling upgrade from ${PREVIOUS_RELEASE.name}`, () => {
  const t = clusterForTests(() => ({
    release: buildRelease(),
    apis: 2,
    workers: 2,
    env: { HOOKFLOW_RETRY_SCHEDULE: '2,2,2,2', HOOKFLOW_RECONCILE_SECONDS: '5' },
  }));

  it('replaces every process while messages keep coming, with no 5xx and nothing lost', async () => {
    const { cluster, receiver } = t;
    const { appId, secret } = await cluster.appWithEndpoint(receiver.url());
    receiver.secrets = [secret];
    // Every fifth message fails its first attempt: its retry waits on a timer across the upgrade.
    const failedOnce = new Set<string>();
    receiver.behaviour = (r) => {
      const n = JSON.parse(r.body).n as number;
      if (n % 5 === 0 && !failedOnce.has(r.id)) {
        failedOnce.add(r.id);
        return { status: 500 };
      }
      return { status: 200 };
    };

    const replacing = new Set<string>();
    const refusedElsewhere: string[] = [];
    let stop = false;
    const accepted: string[] = [];
    const statuses = new Map<number, number>();
    let n = 0;
    // Paced load through both APIs; a request that gets no answer is fine only when it went
    // to the API being replaced.
    const load = (async () => {
      const started = Date.now();
      const inFlight = new Set<Promise<void>>();
      while (!stop) {
        const i = n++;
        await sleep(Math.max(0, started + i * 50 - Date.now()));
        const api = cluster.apis[i % cluster.apis.length];
        const url = api.url;
        const wasReplacing = replacing.has(url);
        const p = fetch(`${url}/api/v1/app/${appId}/msg`, {
          method: 'POST',
          headers: { authorization: `Bearer ${cluster.adminToken}`, 'content-type': 'application/json' },
          body: JSON.stringify({ eventType: 'upgrade.tick', payload: { n: i } }),
        })
          .then(async (res) => {
            const body = await res.text();
            if (res.status === 202) accepted.push(JSON.parse(body).id);
            else statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          })
          .catch((err: Error) => {
            if (!wasReplacing && !replacing.has(url)) refusedElsewhere.push(`${url}: ${err.message}`);
          })
          .finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
      await Promise.all(inFlight);
    })();

    const replace = async (procs: HookflowProcess[], i: number) => {
      const old = procs[i];
      if (old.kind === 'api') replacing.add(old.url);
      await old.stop();
      procs[i] =
        old.kind === 'api' ? await cluster.startApi(CURRENT, old.port!) : await cluster.startWorker(CURRENT);
      if (old.kind === 'api') replacing.delete(old.url);
    };

    await eventually(() => receiver.received.length >= 40, 'deliveries flowing on the previous release', {
      timeoutMs: 120_000,
    });
    const migrated = await cluster.migrate(CURRENT);
    await sleep(2000);
    for (let i = 0; i < cluster.workers.length; i++) await replace(cluster.workers, i);
    for (let i = 0; i < cluster.apis.length; i++) await replace(cluster.apis, i);
    await sleep(5000);
    stop = true;
    await load;

    expect(statuses).toEqual(new Map());
    expect(refusedElsewhere).toEqual([]);
    await cluster.explain(auditDelivered(receiver, accepted, ['/hook'], { timeoutMs: 300_000 }));
    expect(await cluster.attemptAudit(accepted)).toMatchObject({ repeated: 0, doubleSuccess: 0 });
    // Retries crossed the upgrade: some deliveries had their first attempt on an old worker.
    expect(failedOnce.size).toBeGreaterThan(0);
    for (const p of [...cluster.apis, ...cluster.workers]) expect(p.release).toBe(CURRENT);
    process.stderr.write(
      `[cluster] rolling upgrade: ${accepted.length} messages accepted across the upgrade, ${failedOnce.size} ` +
        `retried; migrate said: ${migrated.trim().split('\n').join(' | ')}\n`,
    );
  });
});
