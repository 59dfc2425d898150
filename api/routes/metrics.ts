import { Router } from 'express';
import type { ApiDeps } from '../context';
import { metricsAuthorized, scrape } from '../../src/metrics';

/**
 * GET /metrics in Prometheus' text format, outside the API's auth and its OpenAPI
 * document (it is not part of the Svix API). When HOOKFLOW_METRICS_TOKEN is set the
 * scraper must send it as a bearer token.
 */
export function metricsRouter({ orm, config, dispatcher }: ApiDeps): Router {
  const router = Router();
  router.get('/metrics', async (req, res) => {
    if (!metricsAuthorized(req.headers.authorization, config.HOOKFLOW_METRICS_TOKEN)) {
      res
        .set('www-authenticate', 'Bearer')
        .status(401)
        .json({ code: 'authentication_failed', detail: 'Invalid or missing metrics token' });
      return;
    }
    const { contentType, body } = await scrape({ orm, dispatcher });
    res.set('content-type', contentType).status(200).send(body);
  });
  return router;
}
