import { Router } from 'express';
import { z } from 'zod';
import type { EntityManager } from '@mikro-orm/postgresql';
import { newId } from '../../src/ids';
import { checkWindow, MAX_WINDOW_DAYS, replayWorkflowId, type ReplayQuery } from '../../src/domain/replay';
import { SA } from '../../workflows/definitions';
import type { ReplayDeliveriesInput } from '../../workflows/replay';
import type { ApiDeps } from '../context';
import { conflict, invalid, temporalUnavailable } from '../http-errors';
import { findEndpoint } from '../resolve';
import { accepted, appPath, endpointPath, lookup } from '../resource';
import { defineRoute } from '../route';
import { isoDateTime } from '../schema-formats';
import { backgroundTaskOut, taskOut } from '../background-task-view';
import { insertTask } from './background-tasks';
import { eventTypeName } from '../schemas';

const PAGE_SIZE = 500;
const CONCURRENCY = 25;
const DEFAULT_RATE = 200;

const when = isoDateTime;
/** Svix's RecoverIn / ReplayIn. */
const windowIn = z
  .object({ since: when, until: when.nullish() })
  .describe(
    `since before until (default now), neither in the future, at most ${MAX_WINDOW_DAYS} days apart (a 422 otherwise)`,
  );
const bulkIn = windowIn
  .extend({
    status: z.enum(['failed', 'missing', 'all']).default('failed'),
    eventTypes: z.array(eventTypeName).min(1).max(50).nullish(),
    endpoints: z.array(z.string().min(1).max(256)).min(1).max(50).nullish(),
    /** Deliveries started per second at most. */
    rateLimit: z.number().int().min(1).max(1000).nullish(),
  })
  .strict();

const replayAccepted = {
  202: {
    description: 'Accepted: a background task runs the replay',
    schema: backgroundTaskOut.omit({ data: true }),
  },
  422: {
    description: `Invalid input, or a window that is reversed, in the future or longer than ${MAX_WINDOW_DAYS} days`,
  },
};

/** since/until as dates, `until` defaulting to now; a bad window is a 422 naming the field. */
function window(body: { since: string; until?: string | null }): { since: string; until: string } {
  const since = new Date(body.since);
  const until = body.until ? new Date(body.until) : new Date();
  const problem = checkWindow(since, until);
  if (problem) throw invalid(['body', problem.field], problem.msg);
  return { since: since.toISOString(), until: until.toISOString() };
}

/** Recover and replay-missing: one route each, the same but for what they send again. */
const endpointReplays = [
  {
    path: 'recover',
    operationId: 'v1.endpoint.recover',
    summary:
      'Resend every message whose delivery to this endpoint failed in the window and has not succeeded since',
    task: 'endpoint.recover',
    status: 'failed',
  },
  {
    path: 'replay-missing',
    operationId: 'v1.endpoint.replay-missing',
    summary:
      "Send every message in the window that the endpoint's current filters match but that was never sent to it",
    task: 'endpoint.replay',
    status: 'missing',
  },
] as const;

/**
 * Recover, replay-missing and Hookflow's bulk replay. Each stores a background task, then
 * starts a ReplayDeliveries workflow that pages through the query and reports progress on it.
 */
export function replayRouter({ orm, temporal, config }: ApiDeps): Router {
  const router = Router();

  async function startReplay(
    em: EntityManager,
    task: string,
    query: ReplayQuery,
    ratePerSecond = DEFAULT_RATE,
  ) {
    const id = newId('qtask');
    const workflowId = replayWorkflowId(id);
    const data = {
      since: query.since,
      until: query.until,
      status: query.status,
      endpoints: query.endpointIds ?? null,
      eventTypes: query.eventTypes ?? null,
    };
    await insertTask(em.getConnection(), {
      id,
      appId: query.appId,
      task,
      data: { ...data, total: null, matched: 0, started: 0, skipped: 0 },
      workflowId,
    });
    const input: ReplayDeliveriesInput = {
      taskId: id,
      query,
      pageSize: PAGE_SIZE,
      concurrency: CONCURRENCY,
      ratePerSecond,
    };
    try {
      await temporal.workflow.start('ReplayDeliveries', {
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        workflowId,
        args: [input],
        typedSearchAttributes: [{ key: SA.app, value: query.appId }],
        staticSummary: `${task} ${query.status} ${query.since} → ${query.until}`,
      });
    } catch (err) {
      await em
        .getConnection()
        .execute(
          `update background_tasks set status = 'failed', data = data || ?::jsonb, updated_at = now() where id = ?`,
          [JSON.stringify({ error: 'could not start the replay workflow' }), id],
        );
      throw temporalUnavailable('start the replay', err);
    }
    const rows: Parameters<typeof taskOut>[0][] = await em
      .getConnection()
      .execute('select * from background_tasks where id = ?', [id]);
    const { data: _data, ...out } = taskOut(rows[0]);
    return accepted(out);
  }

  for (const replay of endpointReplays)
    defineRoute(
      router,
      {
        method: 'post',
        path: `/app/:app/endpoint/:endpoint/${replay.path}`,
        operationId: replay.operationId,
        summary: replay.summary,
        tag: 'Endpoint',
        params: endpointPath,
        body: windowIn,
        idempotent: true,
        responses: { ...replayAccepted, 409: { description: 'The endpoint is disabled' } },
      },
      async ({ req, params, body }) => {
        const { em, app, endpoint } = await lookup(orm, req, params);
        if (endpoint.disabled)
          throw conflict(`Endpoint ${endpoint.id} is disabled: enable it before replaying to it`);
        return startReplay(em, replay.task, {
          appId: app.id,
          ...window(body),
          status: replay.status,
          endpointIds: [endpoint.id],
        });
      },
    );

  defineRoute(
    router,
    {
      method: 'post',
      path: '/app/:app/replay',
      operationId: 'v1.application.replay',
      summary:
        'Bulk replay across the application (Hookflow extension): status failed (default), missing, or all (every finished delivery plus the missing ones)',
      tag: 'Application',
      params: appPath,
      body: bulkIn,
      idempotent: true,
      responses: replayAccepted,
    },
    async ({ req, params, body }) => {
      const { em, app } = await lookup(orm, req, params);
      const w = window(body);
      let endpointIds: string[] | null = null;
      if (body.endpoints) {
        endpointIds = [];
        for (const [i, idOrUid] of body.endpoints.entries()) {
          const ep = await findEndpoint(em, app, idOrUid).catch(() => null);
          if (!ep) throw invalid(['body', 'endpoints', i], 'no such endpoint in this application');
          endpointIds.push(ep.id);
        }
      }
      return startReplay(
        em,
        'application.replay',
        { appId: app.id, ...w, status: body.status, endpointIds, eventTypes: body.eventTypes ?? null },
        body.rateLimit ?? DEFAULT_RATE,
      );
    },
  );

  return router;
}
