import type { Session } from './session';

/** An API error with the message the API gave (Svix shapes: `{code, detail}` or 422 `{detail: [{loc, msg}]}`). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly fields: Record<string, string> = {},
  ) {
    super(message);
  }
}

interface ValidationItem {
  loc?: Array<string | number>;
  msg?: string;
}

function fieldName(loc: Array<string | number> = []): string {
  // Drop the leading "body"/"query" the API puts first.
  const parts = loc[0] === 'body' || loc[0] === 'query' || loc[0] === 'path' ? loc.slice(1) : loc;
  return parts.join('.') || 'request';
}

export function toApiError(status: number, body: unknown): ApiError {
  const detail = (body as { detail?: unknown } | null)?.detail;
  if (Array.isArray(detail)) {
    const fields: Record<string, string> = {};
    const lines = (detail as ValidationItem[]).map((d) => {
      const name = fieldName(d.loc);
      fields[name] = d.msg ?? 'is invalid';
      return `${name}: ${d.msg ?? 'is invalid'}`;
    });
    return new ApiError(status, lines.join('; '), fields);
  }
  if (typeof detail === 'string' && detail) return new ApiError(status, detail);
  if (status === 401) return new ApiError(status, 'Your session has expired. Open the webhooks page again.');
  if (status === 404) return new ApiError(status, 'Not found.');
  if (status >= 500)
    return new ApiError(status, `The server had a problem (HTTP ${status}). Try again in a moment.`);
  return new ApiError(status, `Request failed (HTTP ${status}).`);
}

export interface Page<T> {
  data: T[];
  iterator: string | null;
  prevIterator?: string | null;
  done: boolean;
}

export type Query = Record<string, string | number | boolean | string[] | null | undefined>;

export class Api {
  constructor(private readonly session: Session) {}

  get appId(): string {
    return this.session.appId;
  }

  /** Path relative to the application: `endpoint/ep_…` → /api/v1/app/{app}/endpoint/ep_… */
  app(path: string): string {
    return `/api/v1/app/${encodeURIComponent(this.session.appId)}/${path}`;
  }

  async request<T>(method: string, path: string, body?: unknown, query?: Query): Promise<T> {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query ?? {})) {
      if (v === undefined || v === null || v === '') continue;
      if (Array.isArray(v)) v.forEach((x) => qs.append(k, x));
      else qs.set(k, String(v));
    }
    const url = `${path}${qs.size ? `?${qs}` : ''}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${this.session.token}`,
          accept: 'application/json',
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, 'Could not reach the server. Check your connection and try again.');
    }
    const text = await res.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = null;
    }
    if (!res.ok) throw toApiError(res.status, parsed);
    return parsed as T;
  }

  get<T>(path: string, query?: Query) {
    return this.request<T>('GET', path, undefined, query);
  }
  post<T>(path: string, body: unknown = {}) {
    return this.request<T>('POST', path, body);
  }
  put<T>(path: string, body: unknown) {
    return this.request<T>('PUT', path, body);
  }
  patch<T>(path: string, body: unknown) {
    return this.request<T>('PATCH', path, body);
  }
  delete(path: string) {
    return this.request<void>('DELETE', path);
  }
}
