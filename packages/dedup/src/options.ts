import { hostname } from 'node:os';
import { configErrorMap, describeConfigIssue } from '@cxkit/internal';
import { z } from 'zod';
import type { DedupRedis } from './client.js';
import { defaults } from './defaults.js';
import { ConfigError } from './errors/index.js';
import type { DedupLogger } from './logger.js';

export interface DeduplicatorOptions {
  /** An ioredis client (one master) or an ioredis `Cluster`. Not closed by `close()`. */
  redis: DedupRedis;
  /** @default defaults.namespace ('cxkit:dedup') */
  namespace?: string;
  /** @default defaults.windowMs (60 s) */
  windowMs?: number;
  /** @default defaults.leaseMs (30 s) */
  leaseMs?: number;
  /** @default leaseMs / 3 */
  heartbeatIntervalMs?: number;
  /** @default defaults.maxResultBytes (16 KiB) */
  maxResultBytes?: number;
  /** @default defaults.maxBatchSize (10,000) */
  maxBatchSize?: number;
  /** @default defaults.maxWaiters (10,000) */
  maxWaiters?: number;
  /** Label losers see as the winner, e.g. the pod name. @default `${hostname()}:${process.pid}` */
  owner?: string;
  /** pino-compatible logger. */
  logger?: DedupLogger;
}

export interface ResolvedOptions extends Required<Omit<DeduplicatorOptions, 'logger'>> {
  logger: DedupLogger | undefined;
}

const isFn = (v: unknown, name: string) => typeof (v as Record<string, unknown>)?.[name] === 'function';
const positiveInt = z.number().int().positive();
/** Longest delay a Node timer takes (2^31 - 1 ms): a longer one fires at once (the heartbeat, below the lease, follows). */
const timerMs = positiveInt.max(2_147_483_647);

const schema = z
  .object({
    redis: z.custom<DedupRedis>(
      (v) => isFn(v, 'defineCommand') && isFn(v, 'pipeline') && isFn(v, 'duplicate'),
      'must be an ioredis client or Cluster (defineCommand, pipeline and duplicate are required)',
    ),
    namespace: z.string().min(1).max(128).default(defaults.namespace),
    windowMs: positiveInt.default(defaults.windowMs),
    leaseMs: timerMs.min(10).default(defaults.leaseMs),
    heartbeatIntervalMs: positiveInt.optional(),
    maxResultBytes: positiveInt.default(defaults.maxResultBytes),
    maxBatchSize: positiveInt.default(defaults.maxBatchSize),
    maxWaiters: positiveInt.default(defaults.maxWaiters),
    owner: z.string().min(1).max(256).optional(),
    logger: z
      .custom<DedupLogger>(
        (v) => typeof v === 'object' && v !== null,
        'must be a pino-compatible logger object',
      )
      .optional(),
  })
  .strict();

/** Validates once, at construction; the first problem becomes a `ConfigError` naming the field. */
export function resolveOptions(input: DeduplicatorOptions): ResolvedOptions {
  const parsed = schema.safeParse(input ?? {}, { error: configErrorMap });
  if (!parsed.success) {
    const { field, message } = describeConfigIssue(parsed.error.issues);
    throw new ConfigError(field, message, { cause: parsed.error });
  }
  const o = parsed.data;
  const heartbeatIntervalMs = o.heartbeatIntervalMs ?? Math.max(1, Math.floor(o.leaseMs / 3));
  if (heartbeatIntervalMs >= o.leaseMs) {
    throw new ConfigError(
      'heartbeatIntervalMs',
      `must be below leaseMs (${o.leaseMs}), got ${heartbeatIntervalMs}`,
    );
  }
  return {
    redis: o.redis,
    namespace: o.namespace,
    windowMs: o.windowMs,
    leaseMs: o.leaseMs,
    heartbeatIntervalMs,
    maxResultBytes: o.maxResultBytes,
    maxBatchSize: o.maxBatchSize,
    maxWaiters: o.maxWaiters,
    owner: o.owner ?? `${hostname()}:${process.pid}`,
    logger: o.logger,
  };
}
