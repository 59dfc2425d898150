import type { EntityManager } from '@mikro-orm/postgresql';
import type { Application, Endpoint, EventType } from '../../../src/db/entities';
import { textArray } from '../../../src/db/sql';
import { checkTemplate, TemplateError } from '../../../src/domain/template';
import { invalid, ValidationError, type ValidationIssue } from '../../http-errors';
import type { z } from 'zod';
import type { endpointOutSchema } from './schemas';

/**
 * Svix's EndpointOut with both names of the aliased fields. The bearer token is
 * write-only: responses say only whether one is set (`bearerTokenSet`), never show it
 * or a part of it, so a response or a log line can never leak it.
 */
export function endpointOut(ep: Endpoint): z.infer<typeof endpointOutSchema> {
  const types = ep.eventTypes && ep.eventTypes.length > 0 ? ep.eventTypes : null;
  const channels = ep.channels && ep.channels.length > 0 ? ep.channels : null;
  return {
    id: ep.id,
    uid: ep.uid,
    url: ep.url,
    description: ep.description,
    version: ep.version,
    disabled: ep.disabled,
    disabledReason: ep.disabled ? ep.disabledReason : null,
    eventTypes: types,
    filterTypes: types,
    channels,
    throttleRate: ep.throttleRate,
    rateLimit: ep.throttleRate,
    metadata: ep.metadata ?? {},
    method: ep.method,
    payloadTemplate: ep.payloadTemplate,
    bearerTokenSet: !!ep.bearerTokenEnc,
    createdAt: new Date(ep.createdAt).toISOString(),
    updatedAt: new Date(ep.updatedAt).toISOString(),
  };
}

/** Svix's operational webhook data for endpoint events. */
export function operationalData(app: Application, ep: Pick<Endpoint, 'id' | 'uid'>) {
  return { appId: app.id, appUid: app.uid, endpointId: ep.id, endpointUid: ep.uid };
}

/** Distinct names in the order given; null when none (Svix: null means every type or channel). */
export function normalizeTypes(list: string[] | null | undefined): string[] | null | undefined {
  if (list === undefined) return undefined;
  if (list === null || list.length === 0) return null;
  return [...new Set(list)];
}

/** Every subscribed event type must exist in the catalog and not be archived. */
export async function loadEventTypes(
  em: EntityManager,
  names: string[],
  field: 'eventTypes' | 'filterTypes',
): Promise<EventType[]> {
  const rows: Array<{ name: string; archived: boolean; example: unknown; schemas: unknown }> = await em
    .getConnection()
    .execute('select name, archived, example, schemas from event_types where name = any(?::text[])', [
      textArray(names),
    ]);
  const byName = new Map(rows.map((r) => [r.name, r]));
  const issues: ValidationIssue[] = [];
  names.forEach((name, i) => {
    const row = byName.get(name);
    if (!row)
      issues.push({
        loc: ['body', field, i],
        msg: `Event type "${name}" does not exist`,
        type: 'value_error',
      });
    else if (row.archived)
      issues.push({ loc: ['body', field, i], msg: `Event type "${name}" is archived`, type: 'value_error' });
  });
  if (issues.length) throw new ValidationError(issues);
  return names.map((n) => {
    const r = byName.get(n)!;
    return { name: r.name, example: r.example, schemas: r.schemas } as EventType;
  });
}

/** The example of an event type: its `example`, else `schemas["1"].examples[index]`. */
export function exampleOf(
  et: Pick<EventType, 'example' | 'schemas'>,
  index?: number,
): Record<string, unknown> | null {
  const isObject = (v: unknown): v is Record<string, unknown> =>
    !!v && typeof v === 'object' && !Array.isArray(v);
  const fromSchema = (i: number) => {
    const v1 = et.schemas?.['1'];
    const examples = isObject(v1) ? v1.examples : undefined;
    const ex = Array.isArray(examples) ? examples[i] : undefined;
    return isObject(ex) ? ex : null;
  };
  if (index !== undefined) return fromSchema(index);
  if (isObject(et.example)) return et.example;
  return fromSchema(0);
}

/**
 * A template is checked against the example of the first subscribed event type that has
 * one, else against an empty payload; the 422 says where and why.
 */
export function validateTemplate(template: string, endpointId: string, types: EventType[]): void {
  const withExample = types.map((t) => ({ t, ex: exampleOf(t) })).find((x) => x.ex);
  try {
    checkTemplate(template, {
      event: withExample?.t.name ?? types[0]?.name ?? 'example.event',
      timestamp: Math.floor(Date.now() / 1000),
      msgId: 'msg_example',
      eventId: 'evt_example',
      endpointId,
      payload: withExample?.ex ?? {},
    });
  } catch (err) {
    if (err instanceof TemplateError) throw invalid(['body', 'payloadTemplate'], err.message);
    throw err;
  }
}

/** With HOOKFLOW_HTTPS_ONLY, only https endpoints are accepted (the worker refuses others anyway). */
export function checkScheme(url: string, httpsOnly: boolean): void {
  if (httpsOnly && !url.startsWith('https:'))
    throw invalid(['body', 'url'], 'must be an https URL (HOOKFLOW_HTTPS_ONLY is set)');
}
