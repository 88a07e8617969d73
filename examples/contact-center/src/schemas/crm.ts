import { z } from 'zod';
import { identifier, isoDateTime, sessionId } from './common.js';

/** Seed 001, section 2: `sha256:` + 64 lowercase hex characters (see `idempotencyKey()`). */
export const idempotencyKeyHeader = z.strictObject({
  'idempotency-key': z
    .string({ error: 'Idempotency-Key header is required' })
    .regex(/^sha256:[0-9a-f]{64}$/, 'expected sha256: followed by 64 lowercase hex characters'),
});

export const interactionType = z.enum(['voice', 'chat', 'email', 'sms', 'callback', 'messaging']);

/** Seed 001, section 2: the CRM contact update a flow or a platform integration posts. */
export const crmContactUpdateBody = z.strictObject({
  session_id: sessionId,
  contact_id: identifier(64),
  operation: z.enum(['UPDATE_NOTES', 'LOG_INTERACTION']),
  payload: z.strictObject({
    interaction_type: interactionType,
    agent_id: identifier(64),
    notes: z.string().min(1).max(4000),
    timestamp: isoDateTime,
  }),
  /**
   * Set when the caller already holds the session lock (from `/api/v1/state/locks/acquire`): the write is
   * fenced with that lock's fence instead of taking the lock here.
   */
  lock: z
    .strictObject({
      lock_token: z.string().min(8).max(200),
      fence: z.number().int().positive(),
    })
    .optional(),
});

export type CrmContactUpdateBody = z.output<typeof crmContactUpdateBody>;
