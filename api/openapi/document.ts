import { Router } from 'express';
import type { ApiDeps } from '../context';

/** Serves /api/v1/openapi.json and the rendered reference at /docs (no auth). */
export function docsRouter(_deps: ApiDeps): Router {
  const router = Router();
  return router;
}
