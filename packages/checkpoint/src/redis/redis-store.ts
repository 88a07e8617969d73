import { z } from 'zod';
import { defaults } from '../defaults.js';
import { type CommonCheckpointOptions, commonOptions, parseOptions } from '../options.js';
import type { CheckpointSchema } from '../schema/define-schema.js';
import { BaseCheckpointStore } from '../store.js';
import type { Logger } from '../types.js';
import { isRedisClientLike, type RedisClientLike } from './client.js';
import { RedisBackend } from './redis-backend.js';

export interface CheckpointStoreOptions<V, I> extends CommonCheckpointOptions<V, I> {
  /** An ioredis `Redis` (single master) or `Cluster`, or anything with the same few commands. */
  redis: RedisClientLike;
  /** Key prefix; must not contain `{` or `}` (they would break the session's hash tag). @default 'cxkit:checkpoint' */
  namespace?: string;
}

const redisOptions = commonOptions.extend({
  redis: z.custom<RedisClientLike>(isRedisClientLike, 'must be an ioredis Redis or Cluster client'),
  namespace: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[^{}]*$/, 'must not contain { or }')
    .default(defaults.namespace),
});

/**
 * Versioned, fenced flow checkpoints on Redis (single node or Cluster). Each save is one Lua script;
 * each `latest()` is one HMGET.
 */
export class CheckpointStore<V = Record<string, unknown>, I = V> extends BaseCheckpointStore<V, I> {
  constructor(options: CheckpointStoreOptions<V, I>) {
    const o = parseOptions(redisOptions, options);
    const backend = new RedisBackend(o.redis, {
      namespace: o.namespace,
      history: o.history,
      ttlMs: o.ttlSeconds * 1000,
      maxAgeMs: o.maxAgeSeconds * 1000,
      maxQuarantined: o.maxQuarantined,
    });
    super(backend, {
      ...o,
      schema: o.schema as CheckpointSchema<unknown, unknown>,
      logger: o.logger as Logger | undefined,
    });
  }
}
