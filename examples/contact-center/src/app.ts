import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { installProblemHandlers, ProblemError } from './http/problem.js';
import { agentStateRoute } from './routes/agent-state.js';
import { checkpointRoutes } from './routes/checkpoint.js';
import { crmUpdateRoute } from './routes/crm-update.js';
import { healthRoutes } from './routes/health.js';
import { lockRoutes } from './routes/locks.js';
import { webhookRoutes } from './routes/webhooks.js';
import type { RegionContext } from './services/context.js';

/** Builds one region's HTTP service; `main.ts` listens, tests use `inject()` or a real port. */
export async function buildApp(ctx: RegionContext, logger: Logger): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: ctx.config.BODY_LIMIT_BYTES,
    // Requests carry a correlation id from the platform when they have one.
    requestIdHeader: 'x-correlation-id',
    return503OnClosing: true,
    // Longer than any valid id, so overlong ids reach validation and get a 400 problem naming the field.
    routerOptions: { maxParamLength: 512 },
  });
  installProblemHandlers(app);
  await app.register(rateLimit, {
    global: false,
    errorResponseBuilder: (_request, context) =>
      new ProblemError(
        429,
        'RATE_LIMITED',
        'Too many requests',
        `limit ${context.max} per ${context.after}`,
        {
          retry_after_ms: context.ttl,
        },
      ),
  });
  await healthRoutes(app, ctx);
  await lockRoutes(app, ctx);
  await crmUpdateRoute(app, ctx);
  await checkpointRoutes(app, ctx);
  await webhookRoutes(app, ctx);
  await agentStateRoute(app, ctx);
  return app;
}
