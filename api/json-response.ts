import type { ServerResponse } from 'node:http';

/**
 * Writes a JSON answer with Node's own response API: what Express's res.json does for a
 * write, without its ETag (a SHA-1 of the body, which only serves conditional GETs).
 * Used by routes' answers to writes, the error handler, and the API's fast path.
 */
export function writeJson(
  res: ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string> = {},
): void {
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(text));
  res.end(text);
}
