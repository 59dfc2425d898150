import type { EntityManager } from '@mikro-orm/postgresql';
import {
  EndpointSchema,
  type Application,
  type Endpoint,
  type EventType,
  type HttpMethod,
} from '../../../src/db/entities';
import { textArray } from '../../../src/db/sql';
import { generateSecret } from '../../../src/domain/signing';
import { splitHeaders } from '../../../src/domain/headers';
import type { SecretBox } from '../../../src/domain/crypto';
import { newId } from '../../../src/ids';
import { orConflict } from '../../resource';
import { checkScheme, loadEventTypes, normalizeTypes, validateTemplate } from './model';
import { aliasValue, type EndpointIn, type EndpointPatch, type EndpointUpdate } from './schemas';

/**
 * The change a create, PUT or PATCH asks for, aliases resolved. `undefined` keeps what
 * is stored; `null` clears a nullable field.
 */
export interface EndpointChange {
  url?: string;
  description?: string;
  uid?: string | null;
  version?: number;
  disabled?: boolean;
  eventTypes?: string[] | null;
  /** Which name the body used, so a 422 points at it. */
  eventTypesField: 'eventTypes' | 'filterTypes';
  channels?: string[] | null;
  throttleRate?: number | null;
  metadata?: Record<string, string>;
  method?: HttpMethod;
  payloadTemplate?: string | null;
  bearerToken?: string | null;
  secret?: string | null;
  headers?: Record<string, string> | null;
}

type Body = Partial<EndpointIn & EndpointUpdate & EndpointPatch>;

export function changeFrom(body: Body, mode: 'create' | 'put' | 'patch'): EndpointChange {
  const types = aliasValue(body.eventTypes, body.filterTypes);
  const rate = aliasValue(body.throttleRate, body.rateLimit);
  // PUT replaces Svix's fields; fields Svix SDKs do not know (method, template, bearer
  // token, uid) are kept when omitted, so an SDK update cannot silently wipe them.
  const replace = mode !== 'patch';
  return {
    url: body.url,
    description: body.description,
    uid: body.uid,
    version: body.version,
    disabled: body.disabled,
    eventTypes: normalizeTypes(replace ? (types ?? null) : types),
    eventTypesField: body.eventTypes == null && body.filterTypes != null ? 'filterTypes' : 'eventTypes',
    channels: normalizeTypes(replace ? (body.channels ?? null) : body.channels),
    throttleRate: replace ? (rate ?? null) : rate === 0 ? null : rate,
    metadata: body.metadata,
    method: body.method,
    payloadTemplate: body.payloadTemplate,
    bearerToken: body.bearerToken,
    secret: body.secret,
    headers: body.headers,
  };
}

interface WriteDeps {
  box: SecretBox;
  httpsOnly: boolean;
}

/** Checks a change against the catalog and the endpoint it lands on; throws 422s. */
async function validate(
  em: EntityManager,
  change: EndpointChange,
  target: { id: string; eventTypes: string[] | null; payloadTemplate: string | null },
  deps: WriteDeps,
) {
  if (change.url !== undefined) checkScheme(change.url, deps.httpsOnly);
  let types: EventType[] | null = null;
  if (change.eventTypes) types = await loadEventTypes(em, change.eventTypes, change.eventTypesField);
  const template = change.payloadTemplate !== undefined ? change.payloadTemplate : target.payloadTemplate;
  const typesChanged = change.eventTypes !== undefined;
  if (template && (change.payloadTemplate !== undefined || typesChanged)) {
    if (!types) {
      const names = typesChanged ? [] : (target.eventTypes ?? []);
      types = names.length ? await exampleTypes(em, names) : [];
    }
    validateTemplate(template, target.id, types);
  }
}

/** The stored types of an unchanged subscription, for their examples only (no 422 on archived ones). */
async function exampleTypes(em: EntityManager, names: string[]): Promise<EventType[]> {
  const rows: EventType[] = await em
    .getConnection()
    .execute('select name, example, schemas from event_types where name = any(?::text[])', [
      textArray(names),
    ]);
  return names.map((n) => rows.find((r) => r.name === n)).filter((r): r is EventType => !!r);
}

function apply(ep: Endpoint, change: EndpointChange, box: SecretBox): void {
  const set = <K extends keyof Endpoint>(key: K, value: Endpoint[K] | undefined) => {
    if (value !== undefined) ep[key] = value;
  };
  set('url', change.url);
  set('description', change.description);
  set('uid', change.uid);
  set('version', change.version);
  set('eventTypes', change.eventTypes);
  set('channels', change.channels);
  set('throttleRate', change.throttleRate);
  set('metadata', change.metadata);
  set('method', change.method);
  set('payloadTemplate', change.payloadTemplate);
  if (change.bearerToken !== undefined)
    ep.bearerTokenEnc = change.bearerToken === null ? null : box.seal(change.bearerToken);
  if (change.secret) ep.secretEnc = box.seal(change.secret);
  if (change.headers) {
    const { plain, sensitive } = splitHeaders(change.headers);
    ep.headers = plain;
    ep.sensitiveHeadersEnc = Object.keys(sensitive).length ? box.seal(JSON.stringify(sensitive)) : null;
  }
  if (change.disabled !== undefined && change.disabled !== ep.disabled) {
    ep.disabled = change.disabled;
    ep.disabledReason = change.disabled ? 'Disabled through the API' : null;
    // Re-enabled: the auto-disable clock starts again.
    if (!change.disabled) ep.failingSince = null;
  }
  ep.updatedAt = new Date();
}

const flush = (em: EntityManager, uid: string | null) =>
  orConflict(em.flush(), `An endpoint with uid "${uid}" already exists in this application`);

export async function createEndpoint(
  em: EntityManager,
  app: Application,
  change: EndpointChange,
  deps: WriteDeps,
): Promise<Endpoint> {
  const id = newId('ep');
  await validate(em, change, { id, eventTypes: null, payloadTemplate: null }, deps);
  const now = new Date();
  const ep = em.create(EndpointSchema, {
    id,
    appId: app.id,
    uid: null,
    url: change.url!,
    description: '',
    version: 1,
    disabled: change.disabled ?? false,
    disabledReason: change.disabled ? 'Disabled through the API' : null,
    eventTypes: null,
    channels: null,
    throttleRate: null,
    metadata: {},
    secretEnc: deps.box.seal(change.secret ?? generateSecret()),
    previousSecrets: [],
    headers: {},
    sensitiveHeadersEnc: null,
    bearerTokenEnc: null,
    method: 'POST',
    payloadTemplate: null,
    failingSince: null,
    createdAt: now,
    updatedAt: now,
  });
  apply(ep, { ...change, secret: undefined, disabled: undefined }, deps.box);
  await flush(em, ep.uid);
  return ep;
}

export async function updateEndpoint(
  em: EntityManager,
  ep: Endpoint,
  change: EndpointChange,
  deps: WriteDeps,
): Promise<Endpoint> {
  await validate(em, change, ep, deps);
  apply(ep, change, deps.box);
  await flush(em, ep.uid);
  return ep;
}
