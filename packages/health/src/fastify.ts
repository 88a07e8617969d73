import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import {
  HEALTH_ROUTES,
  type HealthHttpOptions,
  healthResponse,
  resolveHttpOptions,
  routeOf,
} from './http/respond.js';
import type { HealthMonitor } from './monitor.js';

export type { HealthHttpOptions } from './http/respond.js';

export interface HealthPluginOptions extends HealthHttpOptions {
  monitor: HealthMonitor;
}

/**
 * A fastify (5) plugin serving `/health`, `/health/live`, `/health/ready`, `/health/startup` from
 * the monitor's latest snapshot: `app.register(healthPlugin, { monitor })`. Routes are registered
 * on the parent scope (like `fastify-plugin`), so a `prefix` is not applied; use `path` instead.
 */
const plugin = async (app: FastifyInstance, options: HealthPluginOptions): Promise<void> => {
  const { monitor, ...rest } = options;
  const o = resolveHttpOptions(rest);
  for (const suffix of HEALTH_ROUTES) {
    app.get(routeOf(o.path, suffix), async (req, reply) => {
      const answer = healthResponse(monitor, suffix, req.headers.accept, o);
      if (!answer) return reply.callNotFound();
      return reply.code(answer.statusCode).headers(answer.headers).send(Buffer.from(answer.body));
    });
  }
};

// Skip fastify's encapsulation (what fastify-plugin does) so the routes live where it is registered.
Object.assign(plugin, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'cxkit-health',
});

export const healthPlugin: FastifyPluginAsync<HealthPluginOptions> = plugin;
