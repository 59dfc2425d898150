import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';

/**
 * Defaults for every response. The API answers JSON only, so its policy forbids
 * everything; pages with their own needs (/docs, /portal) set their own CSP afterwards,
 * which replaces this one. No `x-frame-options`: the portal is made to be framed, and CSP
 * `frame-ancestors` (which the pages set) is what browsers honour over it. Node's own
 * request and response, so the API's fast path (api/fast-path.ts) sets the same.
 */
export function securityHeaders() {
  return (req: IncomingMessage, res: ServerResponse, next: () => void) => {
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('referrer-policy', 'no-referrer');
    res.setHeader(
      'content-security-policy',
      "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    );
    // Only when this process itself serves TLS: behind a proxy the proxy should send it
    // (`trust proxy` is off, so this is what Express's req.secure says).
    if ((req.socket as TLSSocket).encrypted) {
      res.setHeader('strict-transport-security', 'max-age=31536000; includeSubDomains');
    }
    next();
  };
}
