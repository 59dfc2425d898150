import type { Router } from 'express';
import { EventTypeSchema } from '../../../src/db/entities';
import type { ApiDeps } from '../../context';
import { conflict, invalid } from '../../http-errors';
import { lookup, ok } from '../../resource';
import { defineRoute } from '../../route';
import { Ingest } from '../../../src/domain/ingest';
import { RawJson, stringify } from '../../../src/domain/raw-json';
import { messageOutSchema } from '../../schemas';
import { messageOut, newMessage } from '../messages';
import { exampleOf } from './model';
import { endpointParams, sendExampleIn } from './schemas';

/** Svix's connectivity check event: always available, whether in the catalog or not. */
const PING = { eventType: 'svix.ping', payload: { success: true } };

/**
 * Sends the example of an event type to this one endpoint as a real message (stored,
 * signed, retried, with attempts like any other), whatever the endpoint subscribes to.
 */
export function sendExampleRoutes(router: Router, { orm, dispatcher, config }: ApiDeps): void {
  const ingest = new Ingest(orm, config.HOOKFLOW_RETENTION_DAYS);
  defineRoute(
    router,
    {
      method: 'post',
      path: '/app/:app/endpoint/:endpoint/send-example',
      operationId: 'v1.endpoint.send-example',
      summary: "Send an event type's example to this endpoint",
      tag: 'Endpoint',
      params: endpointParams,
      body: sendExampleIn,
      idempotent: true,
      responses: {
        // 200, as Svix's server and its OpenAPI document answer (the SDKs take any 2xx).
        200: { description: 'The message: stored, delivery under way', schema: messageOutSchema },
        409: { description: 'The endpoint is disabled' },
        422: { description: 'Unknown or archived event type, or no such example' },
      },
    },
    async ({ req, params, body }) => {
      const { em, app, endpoint: ep } = await lookup(orm, req, params);
      if (ep.disabled) throw conflict('The endpoint is disabled: enable it to send an example');

      let payload: Record<string, unknown> | null;
      const et = await em.findOne(EventTypeSchema, { name: body.eventType });
      if (et && !et.archived) {
        payload = exampleOf(et, body.exampleIndex);
        if (!payload) {
          throw body.exampleIndex !== undefined
            ? invalid(
                ['body', 'exampleIndex'],
                `Event type "${et.name}" has no example at index ${body.exampleIndex}`,
              )
            : invalid(['body', 'eventType'], `Event type "${et.name}" has no example`);
        }
      } else if (body.eventType === PING.eventType) {
        payload = PING.payload;
      } else {
        throw invalid(
          ['body', 'eventType'],
          `Event type "${body.eventType}" ${et ? 'is archived' : 'does not exist'}`,
        );
      }

      const out = await ingest.store({
        app: app.id,
        tokenAppId: null,
        message: newMessage({ eventType: body.eventType }, JSON.stringify(payload)),
        respond: (m) => stringify(messageOut(m))!,
        onlyTo: ep.id,
      });
      if (out.kind !== 'stored') throw new Error(`send-example: ${out.kind}`);
      dispatcher.enqueue(out.refs);
      return ok(new RawJson(out.response));
    },
  );
}
