import { z } from 'zod';
import { identifier, sessionId } from './common.js';

export const sessionParams = z.strictObject({ sessionId });

/**
 * Seed 001, section 3: the checkpoint an Architect HTTP Request block or a Studio API action posts.
 * `variables` is checked against the flow-variable schema of `schema_version` by the checkpoint store.
 */
export const checkpointBody = z.strictObject({
  session_id: sessionId,
  region: z.string().regex(/^[a-z0-9-]{2,40}$/, 'lowercase region name like eu-west-1'),
  checkpoint_id: identifier(128),
  schema_version: z.number().int().positive().optional(),
  flow_version: z.string().min(1).max(64).optional(),
  variables: z.record(z.string().max(64), z.unknown()),
  ttl_seconds: z
    .number()
    .int()
    .min(60)
    .max(24 * 3600)
    .optional(),
  expected_revision: z.number().int().nonnegative().optional(),
  fence: z.number().int().positive().optional(),
});

export type CheckpointBody = z.output<typeof checkpointBody>;
