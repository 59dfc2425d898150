import { Router } from 'express';
import type { ApiDeps } from '../context';

export function eventTypesRouter(_deps: ApiDeps): Router {
  const router = Router();
  return router;
}
