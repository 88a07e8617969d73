import type { FastifyInstance, FastifyReply } from 'fastify';
import { type FencedWriteResult, writeFencedNote } from '../db/crm-notes.js';
import { ProblemError } from '../http/problem.js';
import { parse } from '../http/validate.js';
import { type CrmContactUpdateBody, crmContactUpdateBody, idempotencyKeyHeader } from '../schemas/crm.js';
import { verifyCallerLock } from '../services/caller-lock.js';
import type { RegionContext } from '../services/context.js';

interface StoredResponse {
  status: number;
  headers?: Record<string, string>;
  body: Record<string, unknown>;
}

/**
 * Seed 001, section 2: the idempotent CRM update. Order of defences:
 * 1. validation (header and body) before anything is written;
 * 2. the idempotency store: a repeat of the key replays the stored response, a different body under the
 *    same key is 422, a repeat while the first runs waits for it;
 * 3. a quorum lock on the session (or the caller's own lock), whose fence goes into
 * 4. a fenced write: a holder that was overridden can never land its write.
 */
export async function crmUpdateRoute(app: FastifyInstance, ctx: RegionContext): Promise<void> {
  app.post(
    '/api/v2/integrations/crm/contact/update',
    { onRequest: ctx.auth.require('session:write') },
    async (request, reply) => {
      const { 'idempotency-key': key } = parse(
        idempotencyKeyHeader,
        { 'idempotency-key': request.headers['idempotency-key'] },
        'headers',
      );
      const body = parse(crmContactUpdateBody, request.body, 'body');
      // The fingerprint is the operation, not the caller's lock: a flow whose lock ran out (409, key
      // released) takes it again and retries the same deterministic key with a new token and fence.
      const { lock: _lock, ...operation } = body;
      const { replayed, response } = await ctx.idempotency.execute<StoredResponse>(
        key,
        operation,
        () => update(ctx, body, key),
        { wait: 5_000 },
      );
      return send(reply, response, replayed);
    },
  );
}

async function update(ctx: RegionContext, body: CrmContactUpdateBody, key: string): Promise<StoredResponse> {
  const note = {
    sessionId: body.session_id,
    contactId: body.contact_id,
    operation: body.operation,
    interactionType: body.payload.interaction_type,
    agentId: body.payload.agent_id,
    notes: body.payload.notes,
    eventTime: body.payload.timestamp,
    region: ctx.region,
  };
  if (body.lock) await verifyCallerLock(ctx.locks, body.session_id, body.lock);
  const result: FencedWriteResult = body.lock
    ? await writeFencedNote(ctx.db, note, body.lock.fence, key)
    : await ctx.locks.withLock(body.session_id, (lock) => writeFencedNote(ctx.db, note, lock.fence, key), {
        ttlMs: ctx.config.LOCK_TTL_MS,
        operation: body.operation,
        correlationId: key,
        waitMs: 2_000,
      });
  if (!result.written) {
    // Final for this key: the same request can never succeed, so the refusal itself is replayed.
    const problem = new ProblemError(
      409,
      'STALE_FENCE',
      'Write rejected: stale lock fence',
      `fence ${result.fence} is lower than ${result.currentFence}, which already wrote for this session`,
      { session_id: body.session_id, fence: result.fence, current_fence: result.currentFence },
    );
    return { status: 409, body: problem.toProblem('/api/v2/integrations/crm/contact/update') };
  }
  return {
    status: 200,
    body: {
      status: 'updated',
      note_id: result.noteId,
      session_id: body.session_id,
      contact_id: body.contact_id,
      fence: result.fence,
      region: ctx.region,
    },
  };
}

function send(reply: FastifyReply, response: StoredResponse, replayed: boolean): FastifyReply {
  reply.code(response.status).header('idempotent-replayed', String(replayed));
  if (response.status >= 400) reply.type('application/problem+json');
  return reply.send(response.body);
}
