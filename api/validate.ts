import type { z } from 'zod';
import { ValidationError, type ValidationIssue } from './http-errors';

export type Location = 'body' | 'query' | 'path' | 'header';

/** Parses with a zod schema; a failure is a 422 whose `loc` says where, as Svix's server does. */
export function parse<S extends z.ZodType>(schema: S, value: unknown, where: Location): z.infer<S> {
  const unstorable = unstorableStrings(value, [where]);
  if (unstorable.length) throw new ValidationError(unstorable);
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ValidationError(
    result.error.issues.map((issue) => ({
      loc: [where, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))],
      msg: issue.message,
      type: issueType(issue.code),
    })),
  );
}

function issueType(code: string): string {
  switch (code) {
    case 'invalid_type':
      return 'type_error';
    case 'unrecognized_keys':
      return 'value_error.extra';
    case 'too_big':
    case 'too_small':
      return 'value_error.length';
    default:
      return 'value_error';
  }
}

const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/** Deeper JSON overflows the stack of JSON.stringify and of PostgreSQL's jsonb parser (a 500). */
export const MAX_DEPTH = 512;

/**
 * PostgreSQL's text and jsonb cannot hold NUL, and jsonb refuses unpaired UTF-16
 * surrogates: such a string would fail at the insert as a 500, after earlier writes. They
 * are refused here, for every field (and key) of every route, with where they were, as is
 * nesting deeper than MAX_DEPTH. Iterative, so no input can overflow the stack here.
 */
function unstorableStrings(value: unknown, root: Array<string | number>): ValidationIssue[] {
  const out: ValidationIssue[] = [];
  const todo: Array<{ v: unknown; loc: Array<string | number> }> = [{ v: value, loc: root }];
  while (todo.length && out.length < 10) {
    const { v, loc } = todo.pop()!;
    if (typeof v === 'string') {
      if (UNSTORABLE.test(v))
        out.push({ loc, msg: 'must not contain NUL characters or unpaired surrogates', type: 'value_error' });
    } else if (v && typeof v === 'object') {
      if (loc.length - root.length >= MAX_DEPTH) {
        out.push({
          loc: loc.slice(0, root.length + 1),
          msg: `must not be nested deeper than ${MAX_DEPTH} levels`,
          type: 'value_error',
        });
        break;
      }
      for (const [k, child] of Object.entries(v)) {
        if (UNSTORABLE.test(k))
          out.push({
            loc: [...loc, k],
            msg: 'key must not contain NUL characters or unpaired surrogates',
            type: 'value_error',
          });
        else todo.push({ v: child, loc: [...loc, Array.isArray(v) ? Number(k) : k] });
      }
    }
  }
  return out;
}
