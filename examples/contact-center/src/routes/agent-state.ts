import type { FastifyInstance } from 'fastify';
import { ProblemError } from '../http/problem.js';
import { parse } from '../http/validate.js';
import { agentParams } from '../schemas/agent-state.js';
import type { RegionContext } from '../services/context.js';

/**
 * Agent state for desktops and routing, served from the authoritative Redis state (seed 003) through a
 * near cache: every pod answers the same version, and a new pod serves from the Redis snapshot at once.
 */
export async function agentStateRoute(app: FastifyInstance, ctx: RegionContext): Promise<void> {
  app.get(
    '/api/v2/agents/:agentId/state',
    { onRequest: ctx.auth.require('agents:read') },
    async (request, reply) => {
      const { agentId } = parse(agentParams, request.params, 'params');
      const read = await ctx.stateCache.get(agentId);
      if (!read.found && read.stale) {
        // Redis could not confirm the absence (unreachable, or being rebuilt from the outbox): the agent
        // may well have a state, so this is not a 404 the desktop or router would act on.
        throw new ProblemError(
          503,
          'AGENT_STATE_UNAVAILABLE',
          'Agent state cannot be confirmed now',
          `state cache ${ctx.stateCache.status}; retry`,
          { agent_id: agentId },
        );
      }
      if (!read.found || !read.value) {
        throw new ProblemError(404, 'AGENT_STATE_NOT_FOUND', 'No state for this agent', undefined, {
          agent_id: agentId,
        });
      }
      // `stale`: Redis could not confirm the value (unreachable or rebuilding); the caller decides.
      reply.header('cache-control', 'no-store');
      return { ...read.value, version: read.version, stale: read.stale, cache_status: ctx.stateCache.status };
    },
  );
}
