import type { z } from 'zod';
import { ValidationError } from './http-errors';

export type Location = 'body' | 'query' | 'path' | 'header';

/** Parses with a zod schema; a failure is a 422 whose `loc` says where, as Svix's server does. */
export function parse<S extends z.ZodType>(schema: S, value: unknown, where: Location): z.infer<S> {
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
