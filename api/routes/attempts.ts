import { Router, type Request } from 'express';
import { z } from 'zod';
import { newId } from '../../src/ids';
import type { DeliveryState } from '../../src/db/entities';
import type { ApiDeps } from '../context';
import { conflict, HttpError, notFound } from '../http-errors';
import { paginationQuery } from '../pagination';
import { contentOfM, findEndpoint, rowToMessage } from '../resolve';
import {
  accepted,
  endpointPath,
  idOrUid,
  listOut,
  listPage,
  lookup,
  msgPath,
  noContent,
  ok,
  Where,
} from '../resource';
import { defineRoute } from '../route';
import { isoDateTime, queryIntEnum } from '../schema-formats';
import { channelName, messageOutSchema } from '../schemas';
import { endpointOutSchema } from './endpoints/schemas';
import { eventTypesQuery, messageFilters, messageOut } from './messages';

const statusText = ['success', 'pending', 'fail', 'sending'] as const;
const messageStatus = queryIntEnum([0, 1, 2, 3], 'must be 0 (success), 1 (pending), 2 (fail) or 3 (sending)');
const statusCodeClass = queryIntEnum(
  [0, 100, 200, 300, 400, 500],
  'must be one of 0, 100, 200, 300, 400, 500',
);
const bool = z.enum(['true', 'false']);

const filters = paginationQuery.extend({
  status: messageStatus.optional(),
  status_code_class: statusCodeClass.optional(),
  event_types: eventTypesQuery.optional(),
  channel: channelName.optional(),
  tag: z.string().max(128).optional(),
  before: isoDateTime.optional(),
  after: isoDateTime.optional(),
  with_content: bool.default('true'),
  // Sent by Svix SDKs; statuses are always the expanded ones here.
  expanded_statuses: bool.optional(),
});

const attemptOutSchema = z.object({
  id: z.string(),
  msgId: z.string(),
  endpointId: z.string(),
  url: z.string(),
  response: z.string(),
  responseStatusCode: z.number().int(),
  responseDurationMs: z.number().int(),
  status: z.number().int(),
  statusText: z.enum(statusText),
  triggerType: z.number().int(),
  timestamp: z.string(),
  /**
   * Hookflow extension: why an attempt got no HTTP answer (`timeout`, `blocked`, a socket
   * error code) or could not be made (`configuration`: a secret or template of ours), and
   * whether `response` was cut at the configured size.
   */
  errorKind: z.string().nullable(),
  responseTruncated: z.boolean(),
  msg: messageOutSchema.optional(),
});

type Row = Record<string, any>;

function attemptOut(r: Row, withContent: boolean, withMsg: boolean) {
  return {
    id: r.id,
    msgId: r.msg_id,
    endpointId: r.endpoint_id,
    url: r.url,
    response: withContent ? r.response : '',
    responseStatusCode: r.response_status_code,
    responseDurationMs: r.response_duration_ms,
    status: r.status,
    statusText: statusText[r.status as number],
    triggerType: r.trigger_type,
    timestamp: new Date(r.timestamp).toISOString(),
    errorKind: r.error_kind ?? null,
    responseTruncated: r.response_truncated ?? false,
    ...(withMsg && r.m_id ? { msg: messageOut(msgOf(r), withContent) } : {}),
  };
}

/** Message columns selected under an `m_` prefix next to another table's. */
function msgOf(r: Row) {
  return rowToMessage({
    id: r.m_id,
    app_id: r.m_app_id,
    event_type: r.m_event_type,
    event_id: r.m_event_id,
    channels: r.m_channels,
    tags: r.m_tags,
    payload: r.m_payload,
    raw: r.m_raw,
    created_at: r.m_created_at,
    expires_at: r.m_expires_at,
  });
}
const msgColumns = (content: boolean) =>
  `m.id as m_id, m.app_id as m_app_id, m.event_type as m_event_type, m.event_id as m_event_id, m.channels as m_channels,
   m.tags as m_tags, ${contentOfM(content, 'm_')}, m.created_at as m_created_at, m.expires_at as m_expires_at`;

/** A delivery's state as Svix's MessageStatus: cancelled deliveries read as failed. */
const deliveryStatus: Record<DeliveryState, number> = {
  success: 0,
  pending: 1,
  failed: 2,
  sending: 3,
  cancelled: 2,
};

/** The scheduled delivery of a message to an endpoint, as the attempted-messages and -endpoints lists show it. */
const deliveryFields = {
  status: z.number().int(),
  statusText: z.enum(statusText),
  nextAttempt: z.string().nullable(),
};
/** The scheduled deliveries of an endpoint or a message: a manual resend is a delivery of its own, shown by its attempts. */
const scheduled = (appId: string, column: 'd.endpoint_id' | 'd.msg_id', id: string) =>
  new Where(`${column} = ?`, id).and('d.app_id = ?', appId).and("d.trigger <> 'manual'");

function deliveryOut(r: Row) {
  const status = deliveryStatus[r.state as DeliveryState] ?? 1;
  return {
    status,
    statusText: statusText[status],
    nextAttempt: r.next_attempt_at ? new Date(r.next_attempt_at).toISOString() : null,
  };
}

const attemptPath = msgPath.extend({ attempt: z.string().min(1).max(256) });

/** What an expunged attempt's response reads, as in Svix. */
const EXPUNGED_RESPONSE = 'EXPUNGED';

/**
 * Message attempts (Svix's MessageAttemptOut), the attempted messages of an endpoint and
 * the attempted endpoints of a message (from the deliveries table), and manual resend.
 * Lists are newest first by default.
 */
export function attemptsRouter({ orm, dispatcher }: ApiDeps): Router {
  const router = Router();

  /** One attempt of the message the path names; 404 for the first thing missing. */
  async function findAttempt(req: Request, params: z.infer<typeof attemptPath>): Promise<Row> {
    const { em, app, msg } = await lookup(orm, req, params);
    const rows: Row[] = await em
      .getConnection()
      .execute('select * from attempts where id = ? and msg_id = ? and app_id = ?', [
        params.attempt,
        msg.id,
        app.id,
      ]);
    if (!rows[0]) throw notFound('Message attempt');
    return rows[0];
  }

  /** Attempts of the application matching `scope` (an endpoint's, a message's) and the query's filters. */
  function listAttempts(scope: Where, q: z.infer<typeof filters> & { with_msg?: string }) {
    const content = q.with_content === 'true';
    return listPage(
      q,
      'descending',
      (ks) => {
        const where = messageFilters(scope.after(ks, 'a.id'), q, 'a.id', 'atmpt')
          .when(q.status !== undefined, 'a.status = ?', q.status)
          .when(q.status_code_class === 0, 'a.response_status_code = 0')
          .when(
            !!q.status_code_class,
            'a.response_status_code between ? and ?',
            q.status_code_class,
            (q.status_code_class ?? 0) + 99,
          );
        return orm.em.getConnection().execute<Row[]>(
          `select a.*, ${msgColumns(content)}
             from attempts a left join messages m on m.id = a.msg_id
            where ${where}
            order by a.id ${ks.dir} limit ?`,
          [...where.args, ks.fetch],
        );
      },
      (r) => r.id,
      (r) => attemptOut(r, content, q.with_msg === 'true'),
    );
  }

  defineRoute(
    router,
    {
      method: 'get',
      path: '/app/:app/attempt/endpoint/:endpoint',
      operationId: 'v1.message-attempt.list-by-endpoint',
      summary: 'List the attempts made to an endpoint, newest first',
      tag: 'Message Attempt',
      params: endpointPath,
      query: filters.extend({ with_msg: bool.default('false') }),
      responses: {
        200: { description: 'A page of attempts', schema: listOut(attemptOutSchema) },
        404: { description: 'Not found' },
      },
    },
    async ({ req, params, query }) => {
      const { app, endpoint } = await lookup(orm, req, params);
      return listAttempts(new Where('a.app_id = ?', app.id).and('a.endpoint_id = ?', endpoint.id), query);
    },
  );

  defineRoute(
    router,
    {
      method: 'get',
      path: '/app/:app/attempt/msg/:msg',
      operationId: 'v1.message-attempt.list-by-msg',
      summary: 'List the attempts made for a message, newest first',
      tag: 'Message Attempt',
      params: msgPath,
      query: filters.extend({ endpoint_id: z.string().min(1).max(256).optional() }),
      responses: {
        200: { description: 'A page of attempts', schema: listOut(attemptOutSchema) },
        404: { description: 'Not found' },
      },
    },
    async ({ req, params, query }) => {
      const { em, app, msg } = await lookup(orm, req, params);
      const scope = new Where('a.app_id = ?', app.id).and('a.msg_id = ?', msg.id);
      if (query.endpoint_id)
        scope.and('a.endpoint_id = ?', (await findEndpoint(em, app, query.endpoint_id)).id);
      return listAttempts(scope, query);
    },
  );

  defineRoute(
    router,
    {
      method: 'get',
      path: '/app/:app/msg/:msg/attempt/:attempt',
      operationId: 'v1.message-attempt.get',
      summary: 'Get one attempt',
      tag: 'Message Attempt',
      params: attemptPath,
      responses: {
        200: { description: 'The attempt', schema: attemptOutSchema },
        404: { description: 'Not found' },
      },
    },
    async ({ req, params }) => ok(attemptOut(await findAttempt(req, params), true, false)),
  );

  defineRoute(
    router,
    {
      method: 'delete',
      path: '/app/:app/msg/:msg/attempt/:attempt/content',
      operationId: 'v1.message-attempt.expunge-content',
      summary: "Delete an attempt's response body (it then reads EXPUNGED, as Svix); the message is kept",
      tag: 'Message Attempt',
      params: attemptPath,
      responses: {
        204: { description: 'Response body deleted' },
        404: { description: 'Not found' },
      },
    },
    async ({ req, params }) => {
      const attempt = await findAttempt(req, params);
      await orm.em
        .getConnection()
        .execute(`update attempts set response = ?, response_truncated = false where id = ?`, [
          EXPUNGED_RESPONSE,
          attempt.id,
        ]);
      return noContent();
    },
  );

  const endpointMessageOut = messageOutSchema.extend(deliveryFields);

  defineRoute(
    router,
    {
      method: 'get',
      path: '/app/:app/endpoint/:endpoint/msg',
      operationId: 'v1.message-attempt.list-attempted-messages',
      summary:
        'List the messages sent (or being sent) to an endpoint, with their delivery status, newest first',
      tag: 'Message Attempt',
      params: endpointPath,
      query: filters.omit({ status_code_class: true }),
      responses: {
        200: { description: 'A page of messages', schema: listOut(endpointMessageOut) },
        404: { description: 'Not found' },
      },
    },
    async ({ req, params, query: q }) => {
      const { em, app, endpoint } = await lookup(orm, req, params);
      const content = q.with_content === 'true';
      const states = (Object.keys(deliveryStatus) as DeliveryState[]).filter(
        (s) => deliveryStatus[s] === q.status,
      );
      return listPage(
        q,
        'descending',
        (ks) => {
          const scope = scheduled(app.id, 'd.endpoint_id', endpoint.id).after(ks, 'd.msg_id');
          const where = messageFilters(scope, q, 'd.msg_id', 'msg').when(
            q.status !== undefined,
            'd.state in (?)',
            states,
          );
          return em.getConnection().execute<Row[]>(
            `select d.state, d.next_attempt_at, ${msgColumns(content)}
               from deliveries d join messages m on m.id = d.msg_id
              where ${where}
              order by d.msg_id ${ks.dir} limit ?`,
            [...where.args, ks.fetch],
          );
        },
        (r) => r.m_id,
        (r) => ({ ...messageOut(msgOf(r), content), ...deliveryOut(r) }),
      );
    },
  );

  const messageEndpointOut = endpointOutSchema
    .pick({
      id: true,
      uid: true,
      url: true,
      description: true,
      version: true,
      disabled: true,
      eventTypes: true,
      filterTypes: true,
      channels: true,
      throttleRate: true,
      rateLimit: true,
      createdAt: true,
      updatedAt: true,
    })
    .extend(deliveryFields);

  defineRoute(
    router,
    {
      method: 'get',
      path: '/app/:app/msg/:msg/endpoint',
      operationId: 'v1.message-attempt.list-attempted-destinations',
      summary:
        'List the endpoints a message was sent (or is being sent) to, with the delivery status, by ascending endpoint id (as Svix)',
      tag: 'Message Attempt',
      params: msgPath,
      query: paginationQuery,
      responses: {
        200: { description: 'A page of endpoints', schema: listOut(messageEndpointOut) },
        404: { description: 'Not found' },
      },
    },
    async ({ req, params, query: q }) => {
      const { em, app, msg } = await lookup(orm, req, params);
      return listPage(
        q,
        'ascending',
        (ks) => {
          const where = scheduled(app.id, 'd.msg_id', msg.id).after(ks, 'd.endpoint_id');
          return em.getConnection().execute<Row[]>(
            `select d.state, d.next_attempt_at, e.*
               from deliveries d join endpoints e on e.id = d.endpoint_id
              where ${where}
              order by d.endpoint_id ${ks.dir} limit ?`,
            [...where.args, ks.fetch],
          );
        },
        (r) => r.id,
        (r) => ({
          id: r.id,
          uid: r.uid,
          url: r.url,
          description: r.description,
          version: r.version,
          disabled: r.disabled,
          eventTypes: r.event_types,
          filterTypes: r.event_types,
          channels: r.channels,
          throttleRate: r.throttle_rate,
          rateLimit: r.throttle_rate,
          createdAt: new Date(r.created_at).toISOString(),
          updatedAt: new Date(r.updated_at).toISOString(),
          ...deliveryOut(r),
        }),
      );
    },
  );

  defineRoute(
    router,
    {
      method: 'post',
      path: '/app/:app/msg/:msg/endpoint/:endpoint/resend',
      operationId: 'v1.message-attempt.resend',
      summary: 'Send a message to an endpoint again, as a new delivery (attempts of trigger type manual)',
      tag: 'Message Attempt',
      params: msgPath.extend({ endpoint: idOrUid }),
      idempotent: true,
      responses: {
        202: {
          description: 'Accepted: a new delivery is under way',
          schema: z.object({}).strict().meta({ id: 'EmptyResponse' }),
        },
        400: { description: 'missing_payload: the message content was expunged or has expired' },
        404: { description: 'Not found' },
        409: { description: 'The endpoint is disabled' },
      },
    },
    async ({ req, params }) => {
      const { app, msg, endpoint: ep } = await lookup(orm, req, params);
      // As Svix: a 400 `missing_payload`, whatever the endpoint's state.
      if (msg.payload === null)
        throw new HttpError(
          400,
          'missing_payload',
          `The content of message ${msg.id} was expunged or has expired: it cannot be resent`,
        );
      if (ep.disabled) throw conflict(`Endpoint ${ep.id} is disabled: enable it before resending to it`);
      // A new workflow every time, so a resend works whatever became of earlier deliveries.
      const workflowId = `resend-${msg.id}-${ep.id}-${newId('atmpt').slice('atmpt_'.length)}`;
      await dispatcher.startDelivery(
        { msgId: msg.id, endpointId: ep.id, appId: app.id, eventType: msg.eventType },
        workflowId,
        'manual',
      );
      // `{}` as Svix answers: the SDKs parse a JSON body here (an empty one throws).
      return accepted({});
    },
  );

  return router;
}
