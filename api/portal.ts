import { Router } from 'express';
import type { ApiDeps } from './context';

/** Serves the tenant portal (portal/dist) at /portal. */
export function portalRouter(_deps: ApiDeps): Router {
  const router = Router();
  return router;
}
