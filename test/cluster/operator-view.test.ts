import { eventually } from '../harness/wait';
import { attemptsQuery, endpointDisabledSignal } from '../../workflows/definitions';
import { clusterForTests } from './harness';
import { documentedQueries, TEN_MINUTES_AGO } from '../harness/operator-queries';

/**
 * What an operator does in Web UI, on the real server's SQL visibility: find deliveries by
 * Hookflow's search attributes, read a running one's attempts, terminate one, and stop an
 * endpoint's deliveries with the endpointDisabled signal.
 */
describe('cluster: the operator view', () => {
  const t = clusterForTests({
    apis: 1,
    workers: 1,
    env: { HOOKFLOW_RETRY_SCHEDULE: '3600', HOOKFLOW_RECONCILE_SECONDS: '5' },
  });

  it('finds, queries, terminates and signals deliveries', async () => {
    const { cluster, receiver } = t;
    const { appId, endpointId: failing } = await cluster.appWithEndpoint(receiver.url('/fail'));
    const ok = await cluster.api('POST', `/api/v1/app/${appId}/endpoint`, { url: receiver.url('/ok') });
    receiver.behaviour = (r) => ({ status: r.path === '/fail' ? 500 : 200 });
    const msgs: string[] = [];
    for (let i = 0; i < 3; i++)
      msgs.push(
        (await cluster.api('POST', `/api/v1/app/${appId}/msg`, { eventType: 'invoice.paid', payload: { i } }))
          .id,
      );

    const client = await cluster.temporalClient();
    try {
      const count = async (query: string) => (await client.workflow.count(query)).count;
      const running = `HookflowEndpoint = '${failing}' AND ExecutionStatus = 'Running'`;
      // The failing endpoint's deliveries wait an hour for their second attempt; the other's are done.
      await eventually(
        async () =>
          (await count(`${running} AND HookflowAttemptCount = 1 AND HookflowLastHttpStatus = 500`)) === 3 &&
          (await count(`HookflowEndpoint = '${ok.id}' AND ExecutionStatus = 'Completed'`)) === 3,
        'visibility to show both endpoints',
        { timeoutMs: 120_000, intervalMs: 500 },
      );
      expect(await count(`HookflowApp = '${appId}'`)).toBe(6);
      expect(await count(`HookflowMessage = '${msgs[0]}'`)).toBe(2);
      expect(await count(`HookflowApp = '${appId}' AND HookflowEventType = 'invoice.paid'`)).toBe(6);
      expect(await count(`HookflowApp = '${appId}' AND HookflowNextAttemptAt > '2000-01-01T00:00:00Z'`)).toBe(
        3,
      );

      // The queries docs/operations.md gives operators, on PostgreSQL's visibility (IS NULL, OR, dates).
      const doc = documentedQueries();
      const mine = (q: string) => count(`${q} AND HookflowApp = '${appId}'`);
      expect(await mine(doc.Failing)).toBe(3);
      expect(await mine(doc['Delivered, at once or after retries'])).toBe(3);
      expect(await mine(doc['Delivered after retries'])).toBe(0);
      expect(await mine(doc.Failed)).toBe(0);
      const tenMinutesAgo = new Date(Date.now() - 600_000).toISOString();
      expect(await mine(doc.Stuck.replaceAll(TEN_MINUTES_AGO, tenMinutesAgo))).toBe(0);
      const inTwoHours = new Date(Date.now() + 7_200_000).toISOString();
      expect(await mine(doc.Stuck.replaceAll(TEN_MINUTES_AGO, inTwoHours))).toBe(3);

      const handle = (msg: string) => client.workflow.getHandle(`deliver-${msg}-${failing}`);
      const attempts = await handle(msgs[0]).query(attemptsQuery);
      expect(attempts).toEqual([
        expect.objectContaining({ attemptNumber: 1, outcome: 'failure', statusCode: 500 }),
      ]);

      // Terminated in Web UI: the delivery reads as cancelled once the reconciler has seen it.
      await handle(msgs[0]).terminate('terminated by an operator');
      const stats = () => cluster.api('GET', `/api/v1/app/${appId}/endpoint/${failing}/stats`);
      await eventually(
        async () => (await stats()).canceled === 1,
        'the terminated delivery to read as cancelled',
        {
          timeoutMs: 120_000,
          intervalMs: 500,
        },
      );

      // The signal an operator (or a disable) sends: the delivery stops as cancelled.
      await handle(msgs[1]).signal(endpointDisabledSignal, { reason: 'operator' });
      expect(await handle(msgs[1]).result()).toEqual({ status: 'cancelled', attempts: 1 });

      // Disabling the endpoint through the API signals the rest.
      await cluster.api('PATCH', `/api/v1/app/${appId}/endpoint/${failing}`, { disabled: true });
      expect(await handle(msgs[2]).result()).toEqual({ status: 'cancelled', attempts: 1 });
      await eventually(async () => (await count(running)) === 0, 'no running delivery of the endpoint', {
        timeoutMs: 60_000,
        intervalMs: 500,
      });
      expect(await stats()).toMatchObject({ canceled: 3, success: 0 });
    } finally {
      await client.connection.close();
    }
  });
});
