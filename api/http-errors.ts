/** Errors in Svix's shapes: `{code, detail}`, and 422 as `{detail: [{loc, msg, type}]}`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
  }
  body(): unknown {
    return { code: this.code, detail: this.detail };
  }
}

export interface ValidationIssue {
  loc: Array<string | number>;
  msg: string;
  type: string;
}

export class ValidationError extends HttpError {
  constructor(readonly issues: ValidationIssue[]) {
    super(422, 'validation_error', issues.map((i) => `${i.loc.join('.')}: ${i.msg}`).join('; '));
  }
  override body(): unknown {
    return { detail: this.issues };
  }
}

export const notFound = (what = 'Entity') => new HttpError(404, 'not_found', `${what} not found`);
export const conflict = (detail: string) => new HttpError(409, 'conflict', detail);
export const badRequest = (detail: string) => new HttpError(400, 'bad_request', detail);
export const unauthorized = (detail = 'Invalid or missing bearer token') =>
  new HttpError(401, 'authentication_failed', detail, { 'www-authenticate': 'Bearer' });
export const forbidden = (detail = 'Insufficient access for the given operation') =>
  new HttpError(403, 'insufficient_access', detail);
export const invalid = (loc: Array<string | number>, msg: string, type = 'value_error') =>
  new ValidationError([{ loc, msg, type }]);
/** Temporal did not take a workflow start or a signal: nothing was done, the caller may retry. */
export const temporalUnavailable = (what: string, err: unknown) =>
  new HttpError(503, 'temporal_unavailable', `Could not ${what}: ${(err as Error).message}`);
