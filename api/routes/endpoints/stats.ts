import type { Router } from 'express';
import { idAt } from '../../../src/ids';
import type { ApiDeps } from '../../context';
import { invalid } from '../../http-errors';
import { lookup, ok } from '../../resource';
import { defineRoute } from '../../route';
import { endpointParams, statsOut, statsQuery } from './schemas';

const LAST_STATUSES = 20;

/**
 * Svix's EndpointStats (deliveries of the endpoint by state, for messages created in the
 * window) plus attempt health for the portal. Ids sort by time, so the window is an id
 * range and both queries stay on the per-endpoint indexes.
 */
export function statsRoutes(router: Router, { orm }: ApiDeps): void {
  defineRoute(
    router,
    {
      method: 'get',
      path: '/app/:app/endpoint/:endpoint/stats',
      operationId: 'v1.endpoint.get-stats',
      summary: "Counts of the endpoint's deliveries by status, and attempt health, in a window",
      tag: 'Endpoint',
      params: endpointParams,
      query: statsQuery,
      responses: {
        200: { description: 'Statistics', schema: statsOut },
        404: { description: 'Not found' },
        422: { description: 'Invalid input, or since after until' },
      },
    },
    async ({ req, params, query }) => {
      const { em, endpoint: ep } = await lookup(orm, req, params);
      const since = query.since ? new Date(query.since) : new Date(0);
      const until = query.until ? new Date(query.until) : new Date(Date.now() + 1000);
      if (since > until) throw invalid(['query', 'since'], 'must not be after until');
      const db = em.getConnection();

      const states: Array<{ state: string; n: string }> = await db.execute(
        `select state, count(*) as n from deliveries
          where endpoint_id = ? and trigger <> 'manual' and msg_id >= ? and msg_id < ? group by state`,
        [ep.id, idAt('msg', since), idAt('msg', until)],
      );
      const count = (s: string) => Number(states.find((r) => r.state === s)?.n ?? 0);

      const window = [ep.id, idAt('atmpt', since), idAt('atmpt', until)];
      const [health]: Array<{ total: string; ok: string; avg: number | null; p95: number | null }> =
        await db.execute(
          `select count(*) as total, count(*) filter (where status = 0) as ok,
                avg(response_duration_ms)::float8 as avg,
                percentile_cont(0.95) within group (order by response_duration_ms)::float8 as p95
           from attempts where endpoint_id = ? and id >= ? and id < ?`,
          window,
        );
      const last: Array<{ code: number }> = await db.execute(
        `select response_status_code as code from attempts
          where endpoint_id = ? and id >= ? and id < ? order by id desc limit ${LAST_STATUSES}`,
        window,
      );
      const total = Number(health?.total ?? 0);
      const round = (v: number | null | undefined) =>
        v === null || v === undefined ? null : Math.round(v * 10) / 10;
      return ok({
        success: count('success'),
        pending: count('pending'),
        sending: count('sending'),
        fail: count('failed'),
        canceled: count('cancelled'),
        successRate: total ? Number(health.ok) / total : null,
        avgResponseMs: total ? round(health.avg) : null,
        p95ResponseMs: total ? round(health.p95) : null,
        lastStatuses: last.map((r) => Number(r.code)),
      });
    },
  );
}
