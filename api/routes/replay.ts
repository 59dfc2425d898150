import { Router } from 'express';
import type { ApiDeps } from '../context';

export function replayRouter(_deps: ApiDeps): Router {
  const router = Router();
  return router;
}
