import { isConfigError, isLockConflictError } from '@cxkit/locks';
import type { FastifyInstance } from 'fastify';
import { forwardToOwner, type LockOwnerRouting, parseWireToken, wireToken } from '../http/lock-owner.js';
import { ProblemError } from '../http/problem.js';
import { parse } from '../http/validate.js';
import { acquireLockBody, heartbeatLockBody, releaseLockBody } from '../schemas/locks.js';
import type { RegionContext } from '../services/context.js';

/**
 * The lock service of seed 001, section 1: a region's middleware (or a flow) takes a quorum lock on a
 * session before mutating it. 200 with token and fence, or 409 naming the holder.
 */
export async function lockRoutes(app: FastifyInstance, ctx: RegionContext): Promise<void> {
  const write = { onRequest: ctx.auth.require('session:write') };
  const routing: LockOwnerRouting = {
    self: ctx.config.POD_NAME,
    peerUrlTemplate: ctx.config.PEER_URL_TEMPLATE,
  };

  app.post('/api/v1/state/locks/acquire', write, async (request) => {
    const body = parse(acquireLockBody, request.body, 'body');
    assertTtl(ctx, body.lock_ttl_ms, 'lock_ttl_ms');
    ctx.heldLocks.assertCapacity();
    let lock: Awaited<ReturnType<typeof ctx.locks.acquire>>;
    try {
      lock = await ctx.locks.acquire(body.resource_id, {
        ttlMs: body.lock_ttl_ms,
        operation: body.operation_type,
        correlationId: body.correlation_id,
      });
    } catch (err) {
      // A TTL the lock would not outlive until this region's first heartbeat (LOCK_HEARTBEAT_MS): the
      // manager refuses it before sending anything; that is the caller's input, not a server fault.
      if (isConfigError(err) && err.field === 'ttlMs')
        throw ttlProblem('lock_ttl_ms', err.message.replace(/^ttlMs: /, ''));
      if (!isLockConflictError(err)) throw err;
      const h = err.holder;
      throw new ProblemError(409, 'LOCK_CONFLICT', 'Lock held by another owner', err.message, {
        resource_id: body.resource_id,
        holder: h && {
          region: h.region,
          operation_type: h.operation,
          correlation_id: h.correlationId,
          fence: h.fence,
          heartbeat_age_ms: h.heartbeatAgeMs,
          // Once heartbeat_age_ms passes this, a contender takes the lock over.
          stale_after_ms: h.staleAfterMs,
          ttl_left_ms: h.ttlLeftMs,
        },
      });
    }
    const expiresAt = ctx.heldLocks.add(lock, body.lock_ttl_ms);
    const overridden = await ctx.overrides.take(lock.token);
    return {
      resource_id: body.resource_id,
      lock_token: wireToken(routing, lock.token),
      fence: lock.fence,
      expires_at: new Date(expiresAt).toISOString(),
      region: lock.region,
      region_origin: body.region_origin,
      ...(overridden ? { overridden } : {}),
    };
  });

  // Heartbeat and release go to the pod that granted the lock (see lock-owner.ts).
  app.post('/api/v1/state/locks/heartbeat', write, async (request, reply) => {
    const body = parse(heartbeatLockBody, request.body, 'body');
    if (body.lock_ttl_ms !== undefined) assertTtl(ctx, body.lock_ttl_ms, 'lock_ttl_ms');
    if (await forwardToOwner(routing, request, reply, body)) return reply;
    const { token } = parseWireToken(body.lock_token);
    const { lock, expiresAt } = ctx.heldLocks.heartbeat(body.resource_id, token, body.lock_ttl_ms);
    return {
      resource_id: body.resource_id,
      lock_token: body.lock_token,
      fence: lock.fence,
      expires_at: new Date(expiresAt).toISOString(),
    };
  });

  app.post('/api/v1/state/locks/release', write, async (request, reply) => {
    const body = parse(releaseLockBody, request.body, 'body');
    if (await forwardToOwner(routing, request, reply, body)) return reply;
    const result = await ctx.heldLocks.release(body.resource_id, parseWireToken(body.lock_token).token);
    return { resource_id: body.resource_id, released: result.released, reason: result.reason ?? null };
  });
}

function assertTtl(ctx: RegionContext, ttlMs: number, field: string): void {
  if (ttlMs <= ctx.config.LOCK_MAX_TTL_MS) return;
  throw ttlProblem(field, `must be at most ${ctx.config.LOCK_MAX_TTL_MS}`);
}

function ttlProblem(field: string, message: string): ProblemError {
  return new ProblemError(400, 'VALIDATION_FAILED', 'Request validation failed', 'invalid body', {
    errors: [{ field: `body.${field}`, message }],
  });
}
