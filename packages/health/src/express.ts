import express, { type Router } from 'express';
import {
  HEALTH_ROUTES,
  type HealthHttpOptions,
  healthResponse,
  resolveHttpOptions,
  routeOf,
} from './http/respond.js';
import type { HealthMonitor } from './monitor.js';

export type { HealthHttpOptions } from './http/respond.js';

/**
 * An express (4 or 5) router serving `/health`, `/health/live`, `/health/ready`, `/health/startup`
 * from the monitor's latest snapshot: `app.use(healthRouter(monitor))`.
 */
export function healthRouter(monitor: HealthMonitor, options?: HealthHttpOptions): Router {
  const o = resolveHttpOptions(options);
  const router = express.Router();
  for (const suffix of HEALTH_ROUTES) {
    router.get(routeOf(o.path, suffix), (req, res) => {
      const answer = healthResponse(monitor, suffix, req.headers.accept, o);
      if (!answer) return;
      res.status(answer.statusCode).set(answer.headers);
      res.end(answer.body);
    });
  }
  return router;
}
