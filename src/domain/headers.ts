/**
 * Custom headers an endpoint adds to every request. Names are checked against the
 * HTTP token grammar and values against visible ASCII, so no header can smuggle a CR/LF
 * into the request (header injection). Names are stored lower-cased: HTTP names are
 * case-insensitive, and one spelling per name means a custom header can never sit next
 * to the same header set by the sender under another case.
 */

/** RFC 9110 `token`: the only characters a header name may have. */
const NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Visible ASCII, space and tab: no CR, LF, NUL or other control characters. */
const VALUE = /^[\t\x20-\x7e]*$/;

export const MAX_HEADERS = 50;
export const MAX_NAME_LENGTH = 256;
export const MAX_VALUE_LENGTH = 4096;

/**
 * Names the sender owns or that change how the request is framed or routed. The list is
 * Svix's forbidden keys plus framing headers (host, connection) and our signature names.
 */
const RESERVED = new Set([
  'host',
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'trailers',
  'transfer-encoding',
  'upgrade',
  'expect',
  'user-agent',
  'age',
  'cache-control',
  'clear-site-data',
  'expires',
  'pragma',
  'warning',
  'content-length',
  'content-type',
  'content-encoding',
  'content-language',
  'content-location',
]);

/** Svix's forbidden prefixes (cloud load balancers' own headers) plus the signature headers. */
const RESERVED_PREFIXES = [
  'webhook-',
  'svix-',
  'x-svix-',
  'x-hookflow-',
  'x-amz-',
  'x-amzn-',
  'x-google',
  'x-goog-',
  'x-gfe',
  'x-azure-',
  'x-fd-',
  'x-forwarded-',
];

/**
 * Sensitive headers are stored sealed and never shown back (Svix's EndpointHeadersOut lists
 * their names only). Svix's list is exact names; we also treat any name that looks like a
 * credential as sensitive, since showing a secret is worse than hiding a harmless value.
 */
const SENSITIVE = new Set(['authorization', 'cookie', 'x-auth-token', 'www-authenticate', 'x-api-key']);
const SENSITIVE_PARTS = [
  'secret',
  'token',
  'key',
  'password',
  'passwd',
  'auth',
  'session',
  'credential',
  'signature',
  'cookie',
];

export function isSensitiveHeader(name: string): boolean {
  const n = name.toLowerCase();
  return SENSITIVE.has(n) || SENSITIVE_PARTS.some((p) => n.includes(p));
}

/** Why a header name cannot be used, or null when it can. */
export function headerNameProblem(name: string): string | null {
  if (name.length === 0 || name.length > MAX_NAME_LENGTH) return `must be 1 to ${MAX_NAME_LENGTH} characters`;
  if (!NAME.test(name)) return "is not a valid header name (letters, digits and !#$%&'*+-.^_`|~ only)";
  const n = name.toLowerCase();
  // JSON objects carry headers: a name that is an object's own machinery is never a header.
  if (n === '__proto__') return 'is not a valid header name';
  if (RESERVED.has(n)) return `"${n}" is reserved and cannot be set`;
  const prefix = RESERVED_PREFIXES.find((p) => n.startsWith(p));
  if (prefix) return `headers starting with "${prefix}" are reserved`;
  return null;
}

/** Case-insensitive by hand: JSON Schema patterns take no flags. */
const anyCase = (word: string) =>
  [...word].map((c) => (/[a-z]/.test(c) ? `[${c}${c.toUpperCase()}]` : c)).join('');

/**
 * headerNameProblem's rules as one pattern, for the OpenAPI document: token characters,
 * not reserved, no reserved prefix (test/unit/schema-patterns.test.ts checks both agree).
 */
export const HEADER_NAME_PATTERN =
  `^(?!(?:${[...RESERVED, '__proto__'].map(anyCase).join('|')})$)` +
  `(?!${RESERVED_PREFIXES.map(anyCase).join('|')})` +
  `[!#$%&'*+\\-.^_\`|~0-9A-Za-z]{1,${MAX_NAME_LENGTH}}$`;
export const HEADER_VALUE_PATTERN = `^[\\t\\x20-\\x7e]{0,${MAX_VALUE_LENGTH}}$`;

export function headerValueProblem(value: string): string | null {
  if (value.length > MAX_VALUE_LENGTH) return `must be at most ${MAX_VALUE_LENGTH} characters`;
  if (!VALUE.test(value)) return 'must contain only printable ASCII (no CR, LF or other control characters)';
  return null;
}

export interface SplitHeaders {
  plain: Record<string, string>;
  sensitive: Record<string, string>;
}

/** Lower-cases names and separates sensitive headers from the rest. Input must be valid. */
export function splitHeaders(headers: Record<string, string>): SplitHeaders {
  const out: SplitHeaders = { plain: {}, sensitive: {} };
  for (const [name, value] of Object.entries(headers)) {
    const n = name.toLowerCase();
    (isSensitiveHeader(n) ? out.sensitive : out.plain)[n] = value;
  }
  return out;
}

/** Applies a patch (a null value deletes) to the full set of headers. */
export function patchHeaders(
  current: Record<string, string>,
  patch: Record<string, string | null>,
): Record<string, string> {
  const next = { ...current };
  for (const [name, value] of Object.entries(patch)) {
    const n = name.toLowerCase();
    if (value === null) delete next[n];
    else next[n] = value;
  }
  return next;
}
