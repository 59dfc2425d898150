import { z } from 'zod';
import { isValidSecret, SECRET_INPUT_PATTERN, SECRET_PREFIX } from '../../../src/domain/signing';
import { HTTP_URL_PATTERN, isoDateTime } from '../../schema-formats';
import {
  HEADER_NAME_PATTERN,
  HEADER_VALUE_PATTERN,
  headerNameProblem,
  headerValueProblem,
  MAX_HEADERS,
  MAX_NAME_LENGTH,
} from '../../../src/domain/headers';
import { channelName, eventTypeName } from '../../schemas';
import { listOut } from '../../resource';
import { metadata, uid } from '../applications-schema';

/**
 * Svix's EndpointIn / EndpointUpdate / EndpointPatch with both generations of names
 * (`eventTypes` | `filterTypes`, `throttleRate` | `rateLimit`), plus Hookflow's
 * `method`, `payloadTemplate` and `bearerToken`.
 */

export const MAX_URL_LENGTH = 2048;

export const endpointUrl = z
  .string()
  .min(1)
  .max(MAX_URL_LENGTH)
  .regex(
    new RegExp(HTTP_URL_PATTERN),
    'must be an http or https URL with a host name or IP address (no credentials, no spaces)',
  )
  // The pattern admits only what the URL parser takes; this keeps that promise checked.
  .refine((value) => URL.canParse(value), 'must be a valid URL');

/** Svix accepts the key with or without `whsec_`; it is stored and shown with it. */
export const secretKey = z
  .string()
  .regex(
    SECRET_INPUT_PATTERN,
    `must be "${SECRET_PREFIX}" (optional) followed by the base64 of 24 to 64 random bytes`,
  )
  .transform((s) => (s.startsWith(SECRET_PREFIX) ? s : SECRET_PREFIX + s))
  .refine(isValidSecret, `must be "${SECRET_PREFIX}" followed by the base64 of 24 to 64 random bytes`);

const headerValue = z
  .string()
  .superRefine((value, ctx) => {
    const problem = headerValueProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: `Header value ${problem}` });
  })
  .meta({ pattern: HEADER_VALUE_PATTERN });

/** Names are checked here rather than by a key schema, so the 422 says why a name is refused. */
function headerNames(headers: Record<string, unknown>, ctx: z.RefinementCtx): void {
  if (Object.keys(headers).length > MAX_HEADERS)
    ctx.addIssue({ code: 'custom', message: `must have at most ${MAX_HEADERS} headers` });
  for (const name of Object.keys(headers)) {
    const problem = headerNameProblem(name);
    if (problem) ctx.addIssue({ code: 'custom', path: [name], message: `Header name ${problem}` });
  }
}
const headerNamesDoc = { propertyNames: { pattern: HEADER_NAME_PATTERN }, maxProperties: MAX_HEADERS };
export const headersMap = z.record(z.string(), headerValue).superRefine(headerNames).meta(headerNamesDoc);
export const headersPatchMap = z
  .record(z.string(), headerValue.nullable())
  .superRefine(headerNames)
  .meta(headerNamesDoc);

const eventTypeList = z
  .array(eventTypeName)
  .min(1, 'must list at least one event type, or be null for all')
  .max(1000);
const channelList = z
  .array(channelName)
  .min(1, 'must list 1 to 10 channels, or be null for all')
  .max(10, 'must list at most 10 channels');
const rate = z.number().int().min(1).max(65535);
export const httpMethod = z.enum(['POST', 'PUT', 'PATCH', 'GET', 'DELETE']);
const template = z.string().min(1).max(65536);
const bearerToken = z
  .string()
  .min(1)
  .max(4096)
  .superRefine((value, ctx) => {
    const problem = headerValueProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: `Bearer token ${problem}` });
  })
  .meta({ pattern: HEADER_VALUE_PATTERN });

const common = {
  description: z
    .string()
    .max(4096)
    .regex(/^[^\u0000-\u0008\u000b-\u001f\u007f]*$/, 'must not contain control characters'),
  uid: uid.nullish(),
  version: z.number().int().min(1).max(65535),
  disabled: z.boolean(),
  eventTypes: eventTypeList.nullish(),
  filterTypes: eventTypeList.nullish(),
  channels: channelList.nullish(),
  throttleRate: rate.nullish(),
  rateLimit: rate.nullish(),
  metadata,
  method: httpMethod,
  payloadTemplate: template.nullish(),
  bearerToken: bearerToken.nullish(),
};

/** Both names of an aliased field may be given, but then they must agree. */
function aliasesAgree(body: Record<string, unknown>, ctx: z.RefinementCtx): void {
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  const given = (v: unknown) => v !== undefined && v !== null;
  for (const [name, alias] of [
    ['eventTypes', 'filterTypes'],
    ['throttleRate', 'rateLimit'],
  ] as const) {
    // null means "not given" (SDKs send `rateLimit: null` beside `throttleRate`): no disagreement.
    if (given(body[name]) && given(body[alias]) && !same(body[name], body[alias])) {
      ctx.addIssue({
        code: 'custom',
        path: [alias],
        message: `must equal ${name} when both are given (${alias} is its older name)`,
      });
    }
  }
}

/**
 * The value of a field given under two names: the one that is not null; null when the body
 * gives only nulls (on PATCH: clear it); undefined when it gives neither name.
 */
export function aliasValue<T>(
  value: T | null | undefined,
  alias: T | null | undefined,
): T | null | undefined {
  if (value !== undefined && value !== null) return value;
  if (alias !== undefined && alias !== null) return alias;
  return value === null || alias === null ? null : undefined;
}

/** Create and PUT: a missing Svix field takes its default. */
const whole = {
  url: endpointUrl,
  ...common,
  description: common.description.default(''),
  version: common.version.default(1),
  disabled: common.disabled.default(false),
  metadata: metadata.default({}),
};

export const endpointIn = z
  .object({
    ...whole,
    method: httpMethod.default('POST'),
    secret: secretKey.nullish(),
    headers: headersMap.nullish(),
  })
  .strict()
  .superRefine(aliasesAgree);

/** PUT: Svix's EndpointUpdate (Svix fields replaced, defaults for the missing ones). */
export const endpointUpdate = z
  .object({ ...whole, method: httpMethod.optional() })
  .strict()
  .superRefine(aliasesAgree);

/** PATCH: only what is given changes; null clears a nullable field. */
export const endpointPatch = z
  .object({
    url: endpointUrl.optional(),
    description: common.description.optional(),
    uid: uid.nullish(),
    version: common.version.optional(),
    disabled: common.disabled.optional(),
    // Svix's EndpointPatch allows an empty list: it means "all", like null.
    eventTypes: z.array(eventTypeName).max(1000).nullish(),
    filterTypes: z.array(eventTypeName).max(1000).nullish(),
    channels: z.array(channelName).max(10, 'must list at most 10 channels').nullish(),
    throttleRate: z.number().int().min(0).max(65535).nullish(),
    rateLimit: z.number().int().min(0).max(65535).nullish(),
    metadata: metadata.optional(),
    secret: secretKey.nullish(),
    method: httpMethod.optional(),
    payloadTemplate: template.nullish(),
    bearerToken: bearerToken.nullish(),
  })
  .strict()
  .superRefine(aliasesAgree);

export type EndpointIn = z.infer<typeof endpointIn>;
export type EndpointUpdate = z.infer<typeof endpointUpdate>;
export type EndpointPatch = z.infer<typeof endpointPatch>;

export const endpointOutSchema = z.object({
  id: z.string(),
  uid: z.string().nullable(),
  url: z.string(),
  description: z.string(),
  version: z.number().int(),
  disabled: z.boolean(),
  disabledReason: z.string().nullable(),
  eventTypes: z.array(z.string()).nullable(),
  filterTypes: z.array(z.string()).nullable(),
  channels: z.array(z.string()).nullable(),
  throttleRate: z.number().int().nullable(),
  rateLimit: z.number().int().nullable(),
  metadata: z.record(z.string(), z.string()),
  method: httpMethod,
  payloadTemplate: z.string().nullable(),
  bearerTokenSet: z.boolean().describe('Whether a bearer token is set; the token itself is write-only'),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const endpointListOut = listOut(endpointOutSchema);

export const pathId = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[a-zA-Z0-9\-_.]+$/, 'must be an id or uid (letters, digits, "-", "_" and ".")');
export const appParams = z.object({ app: pathId });
export const endpointParams = appParams.extend({ endpoint: pathId });

export const secretOut = z.object({ key: z.string() });
export const secretRotateIn = z
  .object({
    key: secretKey.nullish(),
    gracePeriodSeconds: z
      .number()
      .int()
      .min(0)
      .max(7 * 24 * 3600)
      .nullish(),
  })
  .strict();

export const headersIn = z.object({ headers: headersMap }).strict();
/**
 * Svix's EndpointHeadersPatchIn: `headers` merges (a null value removes, the older form) and
 * `deleteHeaders` (current SDKs) names headers to remove.
 */
export const headersPatchIn = z
  .object({
    headers: headersPatchMap,
    deleteHeaders: z
      .array(
        z
          .string()
          .regex(
            new RegExp(`^[!#$%&'*+\\-.^_\`|~0-9A-Za-z]{1,${MAX_NAME_LENGTH}}$`),
            'must be a header name',
          ),
      )
      .max(MAX_HEADERS, `must list at most ${MAX_HEADERS} headers`)
      .optional(),
  })
  .strict();
export const headersOut = z.object({
  headers: z.record(z.string(), z.string()),
  sensitive: z.array(z.string()),
});

export const statsQuery = z.object({
  since: isoDateTime.optional(),
  until: isoDateTime.optional(),
});
export const statsOut = z.object({
  success: z.number().int(),
  pending: z.number().int(),
  sending: z.number().int(),
  fail: z.number().int(),
  canceled: z.number().int(),
  successRate: z
    .number()
    .nullable()
    .describe('Share of attempts in the window that succeeded (0..1); null without attempts'),
  avgResponseMs: z.number().nullable(),
  p95ResponseMs: z.number().nullable(),
  lastStatuses: z
    .array(z.number().int())
    .describe('Response status codes of the last 20 attempts in the window, newest first (0: no response)'),
});

export const sendExampleIn = z
  .object({
    eventType: eventTypeName,
    exampleIndex: z.number().int().min(0).max(1000).optional(),
  })
  .strict();
