import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { Router, type Response } from 'express';
import { z } from 'zod';
import type { ApiDeps } from './context';

/**
 * Who may put the portal in an iframe: a CSP `frame-ancestors` source list. The portal is
 * made to be embedded in our users' products, so the default is any origin; an operator
 * narrows it with e.g. `HOOKFLOW_PORTAL_FRAME_ANCESTORS="https://app.example.com"`.
 */
export const frameAncestorsSchema = z
  .string()
  .trim()
  .min(1, 'must list at least one source')
  .regex(/^[^;,\r\n]+$/, 'must be a space-separated CSP source list (no ";" or ",")')
  .default('*');

export function portalFrameAncestors(env: NodeJS.ProcessEnv = process.env): string {
  const parsed = frameAncestorsSchema.safeParse(env.HOOKFLOW_PORTAL_FRAME_ANCESTORS);
  if (!parsed.success) throw new Error(`HOOKFLOW_PORTAL_FRAME_ANCESTORS ${parsed.error.issues[0].message}`);
  return parsed.data;
}

/** portal/dist next to the sources (ts-node, jest) or next to dist/ (the built package). */
export function portalDistDir(): string | null {
  const candidates = [
    path.resolve(__dirname, '..', 'portal', 'dist'),
    path.resolve(__dirname, '..', '..', 'portal', 'dist'),
  ];
  return candidates.find((dir) => existsSync(path.join(dir, 'index.html'))) ?? null;
}

function securityHeaders(res: Response, frameAncestors: string) {
  // Self only: the portal talks to this origin's API and loads nothing from elsewhere.
  res.set(
    'content-security-policy',
    [
      "default-src 'self'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self' data:",
      "connect-src 'self'",
      "font-src 'self'",
      "object-src 'none'",
      "base-uri 'self'",
      "form-action 'self'",
      `frame-ancestors ${frameAncestors}`,
    ].join('; '),
  );
  // The app token travels in the URL fragment, which browsers never send; no referrer either.
  res.set('referrer-policy', 'no-referrer');
  res.set('x-content-type-options', 'nosniff');
  res.set('cross-origin-opener-policy', 'same-origin-allow-popups');
}

/** Serves the tenant portal (portal/dist) at /portal, with a fallback to index.html for its routes. */
export function portalRouter(_deps: ApiDeps): Router {
  const router = Router();
  const frameAncestors = portalFrameAncestors();
  const dist = portalDistDir();

  router.use('/portal', (_req, res, next) => {
    securityHeaders(res, frameAncestors);
    next();
  });
  // Express matches "/portal/" here too (non-strict routing): only the bare path is redirected.
  router.get('/portal', (req, res, next) => {
    const [pathname, query = ''] = req.originalUrl.split(/\?(.*)/s);
    if (pathname !== '/portal') return next();
    res.redirect(308, `/portal/${query ? `?${query}` : ''}`);
  });

  if (!dist) {
    router.use('/portal', (_req, res) => {
      res.status(503).type('text/plain').send('The portal is not built: run `npm run build:portal`.\n');
    });
    return router;
  }

  router.use(
    '/portal/assets',
    express.static(path.join(dist, 'assets'), { immutable: true, maxAge: '365d', index: false }),
    (_req: unknown, res: Response) => void res.status(404).type('text/plain').send('Not found\n'),
  );
  router.use('/portal', express.static(dist, { index: false, maxAge: '1h' }));
  router.get('/portal/{*rest}', (_req, res) => {
    res.set('cache-control', 'no-cache');
    // Relative to `root`: sendFile refuses an absolute path with a dot segment (the install
    // may live under ~/.cache, ~/.local or the npx cache); only the part after root is checked.
    res.sendFile('index.html', { root: dist });
  });
  return router;
}
