import { configErrorMap, describeConfigIssue } from '@cxkit/internal';
import { z } from 'zod';
import { defaults } from './defaults.js';
import { ConfigError } from './errors.js';
import { type CheckpointSchema, isCheckpointSchema } from './schema/define-schema.js';
import type { Logger } from './types.js';

const logger = z.custom<unknown>(
  (v) =>
    v === undefined ||
    (typeof v === 'object' &&
      v !== null &&
      ['debug', 'info', 'warn', 'error'].every(
        (m) => typeof (v as Record<string, unknown>)[m] === 'function',
      )),
  'must have debug/info/warn/error methods (pino-compatible)',
);

/** Options every checkpoint backend takes (the zod twin is `commonOptions`). */
export interface CommonCheckpointOptions<V, I> {
  /** From `defineCheckpointSchema()`. */
  schema: CheckpointSchema<V, I>;
  /** @default 3_600 */
  ttlSeconds?: number;
  /** @default 86_400 */
  maxAgeSeconds?: number;
  /** @default 10 */
  history?: number;
  /** @default 65_536 */
  maxBytes?: number;
  /** @default 256 */
  maxSessionIdLength?: number;
  /** @default 10 */
  maxQuarantined?: number;
  /** @default false */
  writeBackMigrated?: boolean;
  logger?: Logger;
}

/** Options both backends share; each store extends it with its client option. */
export const commonOptions = z.object({
  schema: z.custom<unknown>(isCheckpointSchema, 'must come from defineCheckpointSchema()'),
  ttlSeconds: z.number().int().min(1).default(defaults.ttlSeconds),
  maxAgeSeconds: z.number().int().min(1).default(defaults.maxAgeSeconds),
  history: z.number().int().min(1).max(1_000).default(defaults.history),
  maxBytes: z
    .number()
    .int()
    .min(64)
    .max(512 * 1024 * 1024)
    .default(defaults.maxBytes),
  maxSessionIdLength: z.number().int().min(1).max(4_096).default(defaults.maxSessionIdLength),
  maxQuarantined: z.number().int().min(1).max(1_000).default(defaults.maxQuarantined),
  writeBackMigrated: z.boolean().default(defaults.writeBackMigrated),
  logger: logger.optional(),
});

/** Parses options once; the first failing option becomes a `ConfigError` naming it. */
export function parseOptions<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
  const parsed = schema.safeParse(input ?? {}, { error: configErrorMap });
  if (parsed.success) {
    const o = parsed.data as { ttlSeconds?: number; maxAgeSeconds?: number };
    if (o.ttlSeconds !== undefined && o.maxAgeSeconds !== undefined && o.maxAgeSeconds < o.ttlSeconds) {
      throw new ConfigError('maxAgeSeconds', `must be at least ttlSeconds (${o.ttlSeconds})`);
    }
    return parsed.data;
  }
  const { field, message } = describeConfigIssue(parsed.error.issues);
  throw new ConfigError(field, message, { cause: parsed.error });
}
