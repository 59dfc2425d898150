import { z } from 'zod';

/**
 * The error bodies every route may answer, as Svix's OpenAPI names them: `HttpErrorOut`
 * (`{code, detail}`) and `HTTPValidationError` (422, `{detail: [{loc, msg, type}]}`).
 */
export const httpErrorOut = z.object({ code: z.string(), detail: z.string() }).meta({ id: 'HttpErrorOut' });

export const validationErrorOut = z
  .object({
    detail: z.array(
      z.object({
        loc: z.array(z.union([z.string(), z.number().int()])),
        msg: z.string(),
        type: z.string(),
      }),
    ),
  })
  .meta({ id: 'HTTPValidationError' });

export type ResponseDoc = { description: string; schema?: z.ZodType };

/** What makes a route answer which error: from its spec, so the document cannot forget one. */
export interface ErrorSources {
  /** Admin-only: app tokens get 403. */
  admin: boolean;
  /** Has path parameters: an unknown id or uid is a 404. */
  params: boolean;
  /** Validates params, query, body or headers: a 422. */
  validates: boolean;
  /** Reads a JSON body: malformed JSON 400, over 1 MB 413, an unknown charset 415. */
  body: boolean;
  /** Takes an idempotency key: a duplicate still in progress is a 409. */
  idempotent: boolean;
}

/** The error statuses of a route (those it documents itself win). */
export function errorResponses(src: ErrorSources): Record<number, ResponseDoc> {
  const err = (description: string): ResponseDoc => ({ description, schema: httpErrorOut });
  const out: Record<number, ResponseDoc> = { 401: err('Missing, invalid, expired or revoked bearer token') };
  if (src.admin) out[403] = err('An application token: this route is for the admin token');
  if (src.params) out[404] = err('No such entity, or not reachable with this token');
  if (src.idempotent) out[409] = err('A request with this idempotency key is still in progress');
  if (src.body) {
    out[400] = err('Malformed JSON body');
    out[413] = err('Body larger than 1 MB');
    out[415] = err('Unsupported body charset or encoding');
  }
  if (src.validates)
    out[422] = { description: 'Invalid input: `loc` says where', schema: validationErrorOut };
  out[429] = err('Rate limit of this token exceeded (see `retry-after`)');
  out[503] = err('The database is unreachable; retry later');
  return out;
}
