import { healthPlugin } from '@cxkit/health/fastify';
import type { FastifyInstance } from 'fastify';
import type { RegionContext } from '../services/context.js';

/**
 * Probes, served by @cxkit/health's fastify plugin from the monitor's latest background round (a probe
 * never runs a check). No auth: load balancers and kubelets call them. `/health` is the seed's composite
 * report; `/health/live` fails only when the process itself is broken (restart it); `/health/ready`
 * fails when a dependency is, and while draining (take it out of rotation, do not restart it);
 * `/health/startup` passes once the startup components were healthy. `Accept: application/health+json`
 * gives the IETF format.
 */
export async function healthRoutes(app: FastifyInstance, ctx: RegionContext): Promise<void> {
  await app.register(healthPlugin, { monitor: ctx.health });
}
