import { readState } from '../state';

/**
 * The HTTP API as the command-line tools (`replay`, `listen`, `send`) call it: they work
 * against a remote Hookflow with a token as well as against `npm start`.
 */
export interface ApiTarget {
  /** Base URL of the API, e.g. http://localhost:8080. */
  url: string;
  token?: string;
}

/** An answer the tool cannot go on with; its message is the one line the user sees. */
export class ApiError extends Error {
  constructor(
    message: string,
    /** The HTTP status that was answered, if any. */
    readonly status?: number,
  ) {
    super(message);
  }
}

export const DEFAULT_API_URL = 'http://localhost:8080';

/** `--api` / `--url` default: HOOKFLOW_URL, else the local `npm start`. */
export function defaultApiUrl(env: NodeJS.ProcessEnv = process.env): string {
  return env.HOOKFLOW_URL || DEFAULT_API_URL;
}

/**
 * The admin token: the flag, else HOOKFLOW_ADMIN_TOKEN, else the one `npm start` generated
 * and keeps in `.hookflow/admin-token` (so tools run inside the project need none).
 */
export function adminToken(
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  return flag || env.HOOKFLOW_ADMIN_TOKEN || readState('admin-token');
}

export const NO_TOKEN =
  'an admin token is needed: --token, HOOKFLOW_ADMIN_TOKEN, or run it inside the project after `npm start` (.hookflow/admin-token)';

export async function callApi(
  target: ApiTarget,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  const res = await fetch(new URL(`/api/v1${path}`, target.url), {
    method,
    headers: {
      authorization: `Bearer ${target.token}`,
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    // A string is JSON text already (sent byte for byte); anything else is serialised here.
    body: typeof body === 'string' ? body : body ? JSON.stringify(body) : undefined,
  }).catch((err: Error) => {
    const why = (err.cause as Error)?.message ?? err.message;
    throw new ApiError(`cannot reach ${target.url} (is Hookflow running there?): ${why}`);
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed };
}

/** Svix's error shapes in one line: `{code, detail}`, or 422's `{detail: [{loc, msg}]}`. */
export function describeError(status: number, body: any): string {
  if (Array.isArray(body?.detail)) {
    return body.detail
      .map((d: { loc: unknown[]; msg: string }) => `${d.loc.filter((l) => l !== 'body').join('.')}: ${d.msg}`)
      .join('; ');
  }
  return `${status} ${body?.detail ?? body?.code ?? String(body)}`;
}

/** Calls the API and returns the body of an expected answer; anything else is an ApiError saying what was being done. */
export async function expectApi(
  target: ApiTarget,
  doing: string,
  expected: number,
  method: string,
  path: string,
  body?: unknown,
): Promise<any> {
  const res = await callApi(target, method, path, body);
  if (res.status === expected) return res.body;
  const hint = res.status === 401 ? ' (is the admin token the one of this server?)' : '';
  throw new ApiError(`${doing}: ${describeError(res.status, res.body)}${hint}`, res.status);
}
