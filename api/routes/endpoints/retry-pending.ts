import type { Router } from 'express';
import { WorkflowNotFoundError } from '@temporalio/client';
import { z } from 'zod';
import { retryNowSignal } from '../../../workflows/definitions';
import type { ApiDeps } from '../../context';
import { conflict, temporalUnavailable } from '../../http-errors';
import { lookup, ok } from '../../resource';
import { defineRoute } from '../../route';
import { endpointParams } from './schemas';

/** Deliveries woken per call, oldest first; a longer backlog is left to its schedule. */
export const RETRY_PENDING_LIMIT = 1000;
const IN_FLIGHT = 20;

const retryPendingOut = z.object({
  pending: z.number().int().describe('pending deliveries found (at most 1000, oldest first)'),
  signalled: z.number().int().describe('of those, the ones whose workflow was told to retry now'),
});

/**
 * `POST /app/{app}/endpoint/{endpoint}/retry-pending` (Hookflow extension): every delivery
 * of the endpoint waiting for its next attempt is signalled `retryNow`, so a receiver that
 * was down (a listener just started) does not wait out the retry schedule.
 */
export function retryPendingRoutes(router: Router, { orm, temporal }: ApiDeps): void {
  defineRoute(
    router,
    {
      method: 'post',
      path: '/app/:app/endpoint/:endpoint/retry-pending',
      operationId: 'v1.endpoint.retry-pending',
      summary:
        'Attempt every pending delivery of this endpoint now instead of at its next scheduled attempt (Hookflow extension)',
      tag: 'Endpoint',
      params: endpointParams,
      access: 'admin',
      responses: {
        200: { description: 'The pending deliveries were told to retry now', schema: retryPendingOut },
        404: { description: 'Not found' },
        409: { description: 'The endpoint is disabled' },
        503: { description: 'Temporal could not be reached' },
      },
    },
    async ({ req, params }) => {
      const { em, app, endpoint: ep } = await lookup(orm, req, params);
      if (ep.disabled) throw conflict(`Endpoint ${ep.id} is disabled: enable it before retrying to it`);
      const rows: Array<{ workflow_id: string }> = await em.getConnection().execute(
        `select workflow_id from deliveries
          where endpoint_id = ? and app_id = ? and state = 'pending' and workflow_id is not null
          order by msg_id limit ?`,
        [ep.id, app.id, RETRY_PENDING_LIMIT],
      );
      let signalled = 0;
      for (let i = 0; i < rows.length; i += IN_FLIGHT) {
        await Promise.all(
          rows.slice(i, i + IN_FLIGHT).map(async ({ workflow_id }) => {
            try {
              await temporal.workflow.getHandle(workflow_id).signal(retryNowSignal);
              signalled++;
            } catch (err) {
              // Finished meanwhile (or not started yet: the reconciler starts it soon anyway).
              if (err instanceof WorkflowNotFoundError) return;
              throw temporalUnavailable('signal the deliveries', err);
            }
          }),
        );
      }
      return ok({ pending: rows.length, signalled });
    },
  );
}
