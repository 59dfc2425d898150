import type { NextFunction, Request, Response } from 'express';

/**
 * Defaults for every response. The API answers JSON only, so its policy forbids
 * everything; pages with their own needs (/docs, /portal) set their own CSP afterwards,
 * which replaces this one. No `x-frame-options`: the portal is made to be framed, and CSP
 * `frame-ancestors` (which the pages set) is what browsers honour over it.
 */
export function securityHeaders() {
  return (req: Request, res: Response, next: NextFunction) => {
    res.set('x-content-type-options', 'nosniff');
    res.set('referrer-policy', 'no-referrer');
    res.set(
      'content-security-policy',
      "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    );
    // Only when this process itself serves TLS: behind a proxy the proxy should send it.
    if (req.secure) res.set('strict-transport-security', 'max-age=31536000; includeSubDomains');
    next();
  };
}
