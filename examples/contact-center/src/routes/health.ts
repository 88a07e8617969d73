import { HEALTH_JSON_TYPE, type HealthReport } from '@cxkit/health';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RegionContext } from '../services/context.js';

/**
 * Probes (no auth: load balancers and kubelets call them). `/health` is the seed's composite report;
 * `/health/live` only fails when the process itself is broken (restart it); `/health/ready` fails when a
 * dependency is (take it out of rotation, do not restart it). Reports come from the background rounds,
 * never from a check run on the request path.
 */
export async function healthRoutes(app: FastifyInstance, ctx: RegionContext): Promise<void> {
  const answer = (request: FastifyRequest, reply: FastifyReply, group?: 'liveness' | 'readiness') => {
    const report: HealthReport = ctx.health.report(group);
    const code = report.status === 'healthy' ? 200 : 503;
    reply.header('cache-control', 'no-store');
    if ((request.headers.accept ?? '').includes(HEALTH_JSON_TYPE)) {
      return reply.code(code).type(HEALTH_JSON_TYPE).send(ctx.health.healthJson(group));
    }
    return reply.code(code).send({ ...report, region: ctx.region });
  };
  app.get('/health', (request, reply) => answer(request, reply));
  app.get('/health/live', (request, reply) => answer(request, reply, 'liveness'));
  app.get('/health/ready', (request, reply) => answer(request, reply, 'readiness'));
}
