import { Router } from 'express';
import { z } from 'zod';
import { idAt, newId } from '../../src/ids';
import type { DeliveryState } from '../../src/db/entities';
import type { ApiDeps } from '../context';
import { conflict, notFound } from '../http-errors';
import { keyset, page, paginationQuery } from '../pagination';
import { findApp, findEndpoint } from '../resolve';
import { defineRoute } from '../route';
import { isoDateTime, queryIntEnum } from '../schema-formats';
import { channelName, eventTypeName, messageOutSchema } from '../schemas';
import { findMessage, messageOut, payloadOfM, rowToMessage } from './messages';

const statusText = ['success', 'pending', 'fail', 'sending'] as const;
const messageStatus = queryIntEnum([0, 1, 2, 3], 'must be 0 (success), 1 (pending), 2 (fail) or 3 (sending)');
const statusCodeClass = queryIntEnum(
  [0, 100, 200, 300, 400, 500],
  'must be one of 0, 100, 200, 300, 400, 500',
);
const bool = z.enum(['true', 'false']);
const eventTypes = z.preprocess(
  (v) => (v === undefined ? undefined : Array.isArray(v) ? v : String(v).split(',')),
  z.array(eventTypeName).max(50),
);

const filters = paginationQuery.extend({
  status: messageStatus.optional(),
  status_code_class: statusCodeClass.optional(),
  event_types: eventTypes.optional(),
  channel: channelName.optional(),
  tag: z.string().max(128).optional(),
  before: isoDateTime.optional(),
  after: isoDateTime.optional(),
  with_content: bool.default('true'),
  // Sent by Svix SDKs; statuses are always the expanded ones here.
  expanded_statuses: bool.optional(),
});

const appParams = z.object({ app: z.string().min(1).max(256) });
const endpointParams = appParams.extend({ endpoint: z.string().min(1).max(256) });
const msgParams = appParams.extend({ msg: z.string().min(1).max(256) });

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
const listOf = (item: z.ZodType) =>
  z.object({
    data: z.array(item),
    iterator: z.string().nullable(),
    prevIterator: z.string().nullable(),
    done: z.boolean(),
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
    created_at: r.m_created_at,
    expires_at: r.m_expires_at,
  });
}
const msgColumns = (content: boolean) =>
  `m.id as m_id, m.app_id as m_app_id, m.event_type as m_event_type, m.event_id as m_event_id, m.channels as m_channels,
   m.tags as m_tags, ${payloadOfM(content)} as m_payload, m.created_at as m_created_at, m.expires_at as m_expires_at`;

/** A delivery's state as Svix's MessageStatus: cancelled deliveries read as failed. */
const deliveryStatus: Record<DeliveryState, number> = {
  success: 0,
  pending: 1,
  failed: 2,
  sending: 3,
  cancelled: 2,
};

/** The filters shared by attempt and message lists; `m` is the messages table, `col` the status column. */
function where(
  q: z.infer<typeof filters>,
  keyCol: string,
  keyPrefix: 'atmpt' | 'msg',
  ks: ReturnType<typeof keyset>,
) {
  const parts: string[] = [];
  const args: unknown[] = [];
  if (ks.after) {
    parts.push(`${keyCol} ${ks.op} ?`);
    args.push(ks.after);
  }
  if (q.event_types?.length) {
    parts.push('m.event_type in (?)');
    args.push(q.event_types);
  }
  if (q.channel) {
    parts.push('? = any(m.channels)');
    args.push(q.channel);
  }
  if (q.tag) {
    parts.push('? = any(m.tags)');
    args.push(q.tag);
  }
  if (q.after) {
    parts.push(`${keyCol} > ?`);
    args.push(idAt(keyPrefix, new Date(q.after)));
  }
  if (q.before) {
    parts.push(`${keyCol} < ?`);
    args.push(idAt(keyPrefix, new Date(q.before)));
  }
  return { parts, args };
}

/**
 * Message attempts (Svix's MessageAttemptOut), the attempted messages of an endpoint and
 * the attempted endpoints of a message (from the deliveries table), and manual resend.
 * Lists are newest first by default.
 */
export function attemptsRouter({ orm, dispatcher }: ApiDeps): Router {
  const router = Router();
  const db = () => orm.em.getConnection();

  async function listAttempts(
    conds: string[],
    condArgs: unknown[],
    q: z.infer<typeof filters> & { with_msg?: string },
  ) {
    const ks = keyset(q, 'descending');
    const w = where(q, 'a.id', 'atmpt', ks);
    if (q.status !== undefined) {
      w.parts.push('a.status = ?');
      w.args.push(q.status);
    }
    if (q.status_code_class !== undefined) {
      if (q.status_code_class === 0) w.parts.push('a.response_status_code = 0');
      else {
        w.parts.push('a.response_status_code between ? and ?');
        w.args.push(q.status_code_class, q.status_code_class + 99);
      }
    }
    const content = q.with_content === 'true';
    const withMsg = q.with_msg === 'true';
    const rows: Row[] = await db().execute(
      `select a.*, ${msgColumns(content)}
         from attempts a left join messages m on m.id = a.msg_id
        where ${[...conds, ...w.parts].join(' and ')}
        order by a.id ${ks.dir} limit ?`,
      [...condArgs, ...w.args, ks.fetch],
    );
    return page(
      rows,
      ks,
      q.limit,
      (r) => r.id,
      (r) => attemptOut(r, content, withMsg),
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
      params: endpointParams,
      query: filters.extend({ with_msg: bool.default('false') }),
      responses: {
        200: { description: 'A page of attempts', schema: listOf(attemptOutSchema) },
        404: { description: 'Not found' },
      },
    },
    async ({ req, params, query }) => {
      const em = orm.em.fork();
      const app = await findApp(em, req, params.app);
      const ep = await findEndpoint(em, app, params.endpoint);
      return {
        status: 200,
        body: await listAttempts(['a.app_id = ?', 'a.endpoint_id = ?'], [app.id, ep.id], query),
      };
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
      params: msgParams,
      query: filters.extend({ endpoint_id: z.string().min(1).max(256).optional() }),
      responses: {
        200: { description: 'A page of attempts', schema: listOf(attemptOutSchema) },
        404: { description: 'Not found' },
      },
    },
    async ({ req, params, query }) => {
      const em = orm.em.fork();
      const app = await findApp(em, req, params.app);
      const msg = await findMessage(em, app, params.msg);
      const conds = ['a.app_id = ?', 'a.msg_id = ?'];
      const args: unknown[] = [app.id, msg.id];
      if (query.endpoint_id) {
        const ep = await findEndpoint(em, app, query.endpoint_id);
        conds.push('a.endpoint_id = ?');
        args.push(ep.id);
      }
      return { status: 200, body: await listAttempts(conds, args, query) };
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
      params: msgParams.extend({ attempt: z.string().min(1).max(256) }),
      responses: {
        200: { description: 'The attempt', schema: attemptOutSchema },
        404: { description: 'Not found' },
      },
    },
    async ({ req, params }) => {
      const em = orm.em.fork();
      const app = await findApp(em, req, params.app);
      const msg = await findMessage(em, app, params.msg);
      const rows: Row[] = await db().execute(
        'select * from attempts where id = ? and msg_id = ? and app_id = ?',
        [params.attempt, msg.id, app.id],
      );
      if (!rows[0]) throw notFound('Message attempt');
      return { status: 200, body: attemptOut(rows[0], true, false) };
    },
  );

  const endpointMessageOut = messageOutSchema.extend({
    status: z.number().int(),
    statusText: z.enum(statusText),
    nextAttempt: z.string().nullable(),
  });

  defineRoute(
    router,
    {
      method: 'get',
      path: '/app/:app/endpoint/:endpoint/msg',
      operationId: 'v1.message-attempt.list-attempted-messages',
      summary:
        'List the messages sent (or being sent) to an endpoint, with their delivery status, newest first',
      tag: 'Message Attempt',
      params: endpointParams,
      query: filters.omit({ status_code_class: true }),
      responses: {
        200: { description: 'A page of messages', schema: listOf(endpointMessageOut) },
        404: { description: 'Not found' },
      },
    },
    async ({ req, params, query: q }) => {
      const em = orm.em.fork();
      const app = await findApp(em, req, params.app);
      const ep = await findEndpoint(em, app, params.endpoint);
      const ks = keyset(q, 'descending');
      const w = where(q, 'd.msg_id', 'msg', ks);
      if (q.status !== undefined) {
        const states = (Object.keys(deliveryStatus) as DeliveryState[]).filter(
          (s) => deliveryStatus[s] === q.status,
        );
        w.parts.push('d.state in (?)');
        w.args.push(states);
      }
      const content = q.with_content === 'true';
      const rows: Row[] = await db().execute(
        `select d.state, d.next_attempt_at, ${msgColumns(content)}
           from deliveries d join messages m on m.id = d.msg_id
          where ${['d.endpoint_id = ?', 'd.app_id = ?', "d.trigger <> 'manual'", ...w.parts].join(' and ')}
          order by d.msg_id ${ks.dir} limit ?`,
        [ep.id, app.id, ...w.args, ks.fetch],
      );
      return {
        status: 200,
        body: page(
          rows,
          ks,
          q.limit,
          (r) => r.m_id,
          (r) => {
            const status = deliveryStatus[r.state as DeliveryState] ?? 1;
            return {
              ...messageOut(msgOf(r), content),
              status,
              statusText: statusText[status],
              nextAttempt: r.next_attempt_at ? new Date(r.next_attempt_at).toISOString() : null,
            };
          },
        ),
      };
    },
  );

  const messageEndpointOut = z.object({
    id: z.string(),
    uid: z.string().nullable(),
    url: z.string(),
    description: z.string(),
    version: z.number().int(),
    disabled: z.boolean(),
    eventTypes: z.array(z.string()).nullable(),
    filterTypes: z.array(z.string()).nullable(),
    channels: z.array(z.string()).nullable(),
    throttleRate: z.number().int().nullable(),
    rateLimit: z.number().int().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
    status: z.number().int(),
    statusText: z.enum(statusText),
    nextAttempt: z.string().nullable(),
  });

  defineRoute(
    router,
    {
      method: 'get',
      path: '/app/:app/msg/:msg/endpoint',
      operationId: 'v1.message-attempt.list-attempted-destinations',
      summary: 'List the endpoints a message was sent (or is being sent) to, with the delivery status',
      tag: 'Message Attempt',
      params: msgParams,
      query: paginationQuery,
      responses: {
        200: { description: 'A page of endpoints', schema: listOf(messageEndpointOut) },
        404: { description: 'Not found' },
      },
    },
    async ({ req, params, query: q }) => {
      const em = orm.em.fork();
      const app = await findApp(em, req, params.app);
      const msg = await findMessage(em, app, params.msg);
      const ks = keyset(q, 'descending');
      // The scheduled delivery's state; a manual resend is a delivery of its own, shown by its attempts.
      const conds = ['d.msg_id = ?', 'd.app_id = ?', "d.trigger <> 'manual'"];
      const args: unknown[] = [msg.id, app.id];
      if (ks.after) {
        conds.push(`d.endpoint_id ${ks.op} ?`);
        args.push(ks.after);
      }
      const rows: Row[] = await db().execute(
        `select d.state, d.next_attempt_at, e.*
           from deliveries d join endpoints e on e.id = d.endpoint_id
          where ${conds.join(' and ')}
          order by d.endpoint_id ${ks.dir} limit ?`,
        [...args, ks.fetch],
      );
      return {
        status: 200,
        body: page(
          rows,
          ks,
          q.limit,
          (r) => r.id,
          (r) => {
            const status = deliveryStatus[r.state as DeliveryState] ?? 1;
            return {
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
              status,
              statusText: statusText[status],
              nextAttempt: r.next_attempt_at ? new Date(r.next_attempt_at).toISOString() : null,
            };
          },
        ),
      };
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
      params: msgParams.extend({ endpoint: z.string().min(1).max(256) }),
      idempotent: true,
      responses: {
        202: {
          description: 'Accepted: a new delivery is under way',
          schema: z.object({}).strict().meta({ id: 'EmptyResponse' }),
        },
        404: { description: 'Not found' },
        409: { description: 'The endpoint is disabled, or the message content was deleted' },
      },
    },
    async ({ req, params }) => {
      const em = orm.em.fork();
      const app = await findApp(em, req, params.app);
      const msg = await findMessage(em, app, params.msg);
      const ep = await findEndpoint(em, app, params.endpoint);
      if (ep.disabled) throw conflict(`Endpoint ${ep.id} is disabled: enable it before resending to it`);
      if (!msg.payload)
        throw conflict(`The content of message ${msg.id} has been deleted: it cannot be resent`);
      // A new workflow every time, so a resend works whatever became of earlier deliveries.
      const workflowId = `resend-${msg.id}-${ep.id}-${newId('atmpt').slice('atmpt_'.length)}`;
      await dispatcher.startDelivery(
        { msgId: msg.id, endpointId: ep.id, appId: app.id, eventType: msg.eventType },
        workflowId,
        'manual',
      );
      // `{}` as Svix answers: the SDKs parse a JSON body here (an empty one throws).
      return { status: 202, body: {} };
    },
  );

  return router;
}
