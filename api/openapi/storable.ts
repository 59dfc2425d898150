/**
 * Every string the API reads, keys included and at any depth of free-form JSON, is refused
 * if it holds NUL or an unpaired surrogate (api/validate.ts: PostgreSQL cannot store them).
 * This pass writes that into the request side of the document: a pattern on strings, on
 * the names of objects' properties, and a `StorableJson` schema for free-form values.
 *
 * Only NUL is in the pattern: JSON Schema validators on Unicode scalar values (Rust's,
 * schemathesis') cannot compile surrogates, and UTF-8 cannot carry an unpaired one anyway.
 */
export const STORABLE = '^[^\\u0000]*$';

type Json = Record<string, unknown>;
interface Doc {
  paths: Record<string, Record<string, Json>>;
  components?: { schemas?: Record<string, Json> };
}

const REF_PREFIX = '#/components/schemas/';
const STORABLE_JSON = 'StorableJson';

/** Any JSON value whose strings and keys hold no NUL, at any depth. */
const storableJson: Json = {
  description: 'Any JSON value; no string or key may hold NUL or an unpaired surrogate',
  anyOf: [
    { type: ['null', 'boolean', 'number'] },
    { type: 'string', pattern: STORABLE },
    { type: 'array', items: { $ref: REF_PREFIX + STORABLE_JSON } },
    {
      type: 'object',
      propertyNames: { pattern: STORABLE },
      additionalProperties: { $ref: REF_PREFIX + STORABLE_JSON },
    },
  ],
};

const isFreeForm = (s: unknown) => !!s && typeof s === 'object' && Object.keys(s).length === 0;
const typeIncludes = (s: Json, t: string) => s.type === t || (Array.isArray(s.type) && s.type.includes(t));

/** One schema (and the schemas inside it), rewritten; `refs` collects the components it names. */
function schema(node: unknown, refs: Set<string>): unknown {
  if (isFreeForm(node)) return { $ref: REF_PREFIX + STORABLE_JSON };
  if (!node || typeof node !== 'object' || Array.isArray(node)) return node;
  const s: Json = { ...(node as Json) };
  if (typeof s.$ref === 'string') refs.add(s.$ref.slice(REF_PREFIX.length));
  for (const key of ['anyOf', 'oneOf', 'allOf'])
    if (Array.isArray(s[key])) s[key] = (s[key] as unknown[]).map((x) => schema(x, refs));
  if (s.items) s.items = schema(s.items, refs);
  if (s.properties)
    s.properties = Object.fromEntries(
      Object.entries(s.properties as Json).map(([k, v]) => [k, schema(v, refs)]),
    );
  if (s.additionalProperties && typeof s.additionalProperties === 'object')
    s.additionalProperties = schema(s.additionalProperties, refs);
  if (typeIncludes(s, 'object') && !(s.propertyNames as Json | undefined)?.pattern)
    s.propertyNames = { ...(s.propertyNames as Json | undefined), pattern: STORABLE };
  if (typeIncludes(s, 'string') && !s.enum && !s.format) {
    if (!s.pattern) s.pattern = STORABLE;
    else s.allOf = [...((s.allOf as unknown[]) ?? []), { pattern: STORABLE }];
  }
  return s;
}

/** The document with the request side (parameters, bodies and the components they use) rewritten. */
export function storableRequests<D extends Doc>(doc: D): D {
  const refs = new Set<string>();
  const paths = Object.fromEntries(
    Object.entries(doc.paths).map(([p, ops]) => [
      p,
      Object.fromEntries(
        Object.entries(ops).map(([method, op]) => {
          const out: Json = { ...op };
          if (Array.isArray(op.parameters))
            out.parameters = (op.parameters as Json[]).map((par) => ({
              ...par,
              schema: schema(par.schema, refs),
            }));
          const body = (op.requestBody as { content?: Record<string, Json> } | undefined)?.content;
          if (body)
            out.requestBody = {
              ...(op.requestBody as Json),
              content: Object.fromEntries(
                Object.entries(body).map(([type, media]) => [
                  type,
                  { ...media, schema: schema(media.schema, refs) },
                ]),
              ),
            };
          return [method, out];
        }),
      ),
    ]),
  );
  const components = { ...(doc.components?.schemas ?? {}) };
  const done = new Set<string>();
  for (let todo = [...refs]; todo.length;) {
    const name = todo.pop()!;
    if (done.has(name) || !components[name] || name === STORABLE_JSON) continue;
    done.add(name);
    const found = new Set<string>();
    components[name] = schema(components[name], found) as Json;
    todo.push(...found);
  }
  components[STORABLE_JSON] = storableJson;
  return { ...doc, paths, components: { ...doc.components, schemas: components } };
}
