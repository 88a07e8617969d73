import { isCheckpointValidationError } from '@cxkit/checkpoint';
import type { FastifyInstance } from 'fastify';
import { ProblemError } from '../http/problem.js';
import { parse } from '../http/validate.js';
import { checkpointBody, sessionParams } from '../schemas/checkpoint.js';
import { verifyCallerLock } from '../services/caller-lock.js';
import { upcastUnversioned } from '../services/checkpoint-schemas.js';
import type { RegionContext } from '../services/context.js';

/**
 * Seed 001, section 3: flows checkpoint their routing variables at every major decision point, and the
 * flow that re-enters after a failover (possibly in another region, on another flow release) restores
 * them. A checkpoint this region cannot read is not an error for the caller: it answers defaults and
 * `route_to: live_agent`, the graceful degradation path.
 */
export async function checkpointRoutes(app: FastifyInstance, ctx: RegionContext): Promise<void> {
  app.post(
    '/api/v2/sessions/:sessionId/state/checkpoint',
    { onRequest: ctx.auth.require('session:write') },
    async (request, reply) => {
      const { sessionId } = parse(sessionParams, request.params, 'params');
      const body = parse(checkpointBody, request.body, 'body');
      if (body.session_id !== sessionId) {
        throw new ProblemError(400, 'VALIDATION_FAILED', 'Request validation failed', 'invalid body', {
          errors: [{ field: 'body.session_id', message: 'must equal the session id in the path' }],
        });
      }
      const version = body.schema_version ?? ctx.schemaVersion;
      if (version !== ctx.schemaVersion) {
        throw new ProblemError(
          422,
          'SCHEMA_VERSION_MISMATCH',
          'Flow schema version not served here',
          `this region runs flow schema v${ctx.schemaVersion}, the checkpoint is v${version}`,
          { schema_version: ctx.schemaVersion },
        );
      }
      // A fence is checked against the session lock first: one never issued would make the store refuse
      // every later fenced save of the real holder (fences only go up).
      if (body.fence !== undefined) await verifyCallerLock(ctx.locks, sessionId, { fence: body.fence });
      try {
        const saved = await ctx.checkpoints.save(sessionId, {
          region: body.region,
          flowVersion: body.flow_version ?? `v${ctx.schemaVersion}`,
          checkpointId: body.checkpoint_id,
          variables:
            body.schema_version === undefined
              ? upcastUnversioned(ctx.schemaVersion, body.variables)
              : body.variables,
          ...(body.expected_revision !== undefined ? { expectedRevision: body.expected_revision } : {}),
          ...(body.fence !== undefined ? { fence: body.fence } : {}),
        });
        return reply.code(201).send({
          session_id: sessionId,
          checkpoint_id: saved.checkpointId,
          revision: saved.revision,
          schema_version: ctx.schemaVersion,
          saved_at: saved.savedAt.toISOString(),
          ttl_seconds: ctx.config.CHECKPOINT_TTL_SECONDS,
        });
      } catch (err) {
        if (isCheckpointValidationError(err)) {
          throw new ProblemError(400, 'VALIDATION_FAILED', 'Request validation failed', 'invalid body', {
            errors: err.issues.map((i) => ({ field: `body.${i.path}`, message: i.message })),
          });
        }
        throw err;
      }
    },
  );

  app.get(
    '/api/v2/sessions/:sessionId/state/latest',
    { onRequest: ctx.auth.require('session:read') },
    async (request) => {
      const { sessionId } = parse(sessionParams, request.params, 'params');
      const result = await ctx.checkpoints.latest(sessionId);
      const base = { session_id: sessionId, schema_version: ctx.schemaVersion, region: ctx.region };
      switch (result.status) {
        case 'restored':
        case 'migrated': {
          const c = result.checkpoint;
          return {
            ...base,
            status: result.status,
            ...(result.status === 'migrated' ? { migrated_from: result.fromVersion } : {}),
            checkpoint_id: c.checkpointId,
            revision: c.revision,
            saved_in_region: c.region,
            saved_at: c.savedAt.toISOString(),
            variables: c.variables,
            route_to: 'resume',
          };
        }
        case 'absent':
          return { ...base, status: 'absent', variables: ctx.defaultVariables, route_to: 'default_routing' };
        case 'incompatible':
          request.log.warn(
            { sessionId, reason: result.reason, detail: result.detail },
            'checkpoint not restorable',
          );
          return {
            ...base,
            status: 'incompatible',
            reason: result.reason,
            detail: result.detail,
            stored_schema_version: result.storedVersion ?? null,
            variables: ctx.defaultVariables,
            route_to: 'live_agent',
          };
      }
    },
  );
}
