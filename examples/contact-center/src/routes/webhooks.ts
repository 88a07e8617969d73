import { isWaitTimeoutError, isWinnerFailedError, type ProcessResult } from '@cxkit/dedup';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { RegionContext } from '../services/context.js';
import { type HandledEvent, handleEvent } from '../webhooks/handle-event.js';
import { normalizeCxone, normalizeGenesys, type PlatformEvent } from '../webhooks/normalize.js';

/**
 * Platform webhooks. Redeliveries and cross-region replays of one event are collapsed by first-write-wins
 * deduplication on the platform's event id (seed 003); storms are cut by a per-client rate limit with
 * 429 + Retry-After, which both platforms honour; slow work goes to the queue (seed 004).
 */
export async function webhookRoutes(app: FastifyInstance, ctx: RegionContext): Promise<void> {
  const options = {
    onRequest: ctx.auth.require('webhooks:deliver'),
    config: {
      rateLimit: { max: ctx.config.RATE_LIMIT_MAX, timeWindow: ctx.config.RATE_LIMIT_WINDOW_MS },
    },
  };
  app.post('/webhooks/genesys', options, async (request, reply) =>
    deliver(ctx, reply, normalizeGenesys(request.body)),
  );
  app.post('/webhooks/cxone', options, async (request, reply) =>
    deliver(ctx, reply, normalizeCxone(request.body)),
  );
}

async function deliver(ctx: RegionContext, reply: FastifyReply, event: PlatformEvent): Promise<FastifyReply> {
  let outcome: ProcessResult<HandledEvent>;
  try {
    outcome = await ctx.dedup.process(`${event.source}:${event.eventId}`, () => handleEvent(ctx, event), {
      waitForResult: 2_000,
    });
  } catch (err) {
    // The winner is still running after the wait, or failed and released the claim: the event is not
    // processed yet, so the platform must redeliver it (a 4xx or 504 would let it give up).
    if (isWaitTimeoutError(err) || isWinnerFailedError(err)) return inProgress(reply, event, err.owner);
    throw err;
  }
  if (outcome.status === 'processed') {
    return reply
      .code(200)
      .send({ status: 'processed', event_id: event.eventId, region: ctx.region, ...outcome.result });
  }
  if (outcome.state === 'in-progress') return inProgress(reply, event, outcome.owner);
  return reply
    .code(200)
    .send({ status: 'duplicate', event_id: event.eventId, region: ctx.region, owner: outcome.owner });
}

/**
 * Still running elsewhere (or its run just failed): ask the platform to redeliver later rather than
 * acknowledging a result that may never come (the winner could still fail and release the claim).
 */
function inProgress(reply: FastifyReply, event: PlatformEvent, owner: string | undefined): FastifyReply {
  return reply
    .code(503)
    .header('retry-after', '2')
    .type('application/problem+json')
    .send({
      type: 'https://cxkit.dev/problems/event-in-progress',
      title: 'Event is being processed by another consumer',
      status: 503,
      code: 'EVENT_IN_PROGRESS',
      event_id: event.eventId,
      owner: owner ?? null,
    });
}
