import { visit } from 'jsonc-parser';

/**
 * JSON text kept as received: a message payload is stored, answered and delivered as the
 * caller's exact text, never parsed and re-serialized (which would turn 9007199254740993
 * into 9007199254740992 and 1e400 into null, rewrite escapes, and with jsonb reorder keys).
 */
export class RawJson {
  constructor(readonly text: string) {}
}

/** JSON.stringify, except that a RawJson is written as its text, unchanged. */
export function stringify(value: unknown): string | undefined {
  if (value instanceof RawJson) return value.text;
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  const toJSON = (value as { toJSON?: () => unknown }).toJSON;
  if (typeof toJSON === 'function') return stringify(toJSON.call(value));
  if (Array.isArray(value)) return `[${value.map((v) => stringify(v) ?? 'null').join(',')}]`;
  const members: string[] = [];
  for (const [k, v] of Object.entries(value)) {
    const s = stringify(v);
    if (s !== undefined) members.push(`${JSON.stringify(k)}:${s}`);
  }
  return `{${members.join(',')}}`;
}

/**
 * The source text of the top-level member `name` of a JSON object (the last one, as
 * JSON.parse keeps the last of duplicate keys), or undefined.
 *
 * Why jsonc-parser: Node 20's JSON.parse has no source text access (the reviver's
 * `context.source` arrived in later V8s), and hand-scanning strings and escapes is how
 * such code goes wrong. jsonc-parser is VS Code's JSON scanner: its visitor reports the
 * offset and length of every value, with keys decoded (so `"p\u0061yload"` is found as
 * JSON.parse would), and returning false from a begin callback skips a value's children,
 * so only the top level is visited. The caller has already parsed `json` strictly with
 * JSON.parse; this only locates.
 */
export function memberText(json: string, name: string): string | undefined {
  let depth = 0;
  let key: string | undefined;
  let start = -1;
  let found: string | undefined;
  const begin = (offset: number) => {
    depth++;
    if (depth === 1) return true;
    if (depth === 2) start = offset;
    return false; // a nested value: its children are not visited
  };
  const end = (offset: number, length: number) => {
    depth--;
    if (depth === 1 && key === name) found = json.slice(start, offset + length);
  };
  visit(
    json,
    {
      onObjectBegin: begin,
      onArrayBegin: begin,
      onObjectEnd: end,
      onArrayEnd: end,
      onObjectProperty: (property) => {
        if (depth === 1) key = property;
      },
      onLiteralValue: (_value, offset, length) => {
        if (depth === 1 && key === name) found = json.slice(offset, offset + length);
      },
      onError: (error, offset) => {
        throw new Error(`memberText: JSON error ${error} at ${offset}`);
      },
    },
    { disallowComments: true, allowTrailingComma: false },
  );
  return found;
}
