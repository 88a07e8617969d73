import { configErrorMap, describeConfigIssue } from '@cxkit/internal';
import { z } from 'zod';
import { defaults } from './defaults.js';
import { ConfigError } from './errors/config-error.js';
import type { Logger, StateCacheRedis, StateSource, ValueSchema } from './types.js';

/** Options of `new StateCache()`. Every field but `redis` and `namespace` has a default. */
export interface StateCacheOptions<T> {
  /**
   * ioredis client or Cluster. Recommended: `enableOfflineQueue: false` or a small `commandTimeout`, so
   * commands from your own code fail fast too; the cache itself bounds every call with `commandTimeoutMs`.
   */
  redis: StateCacheRedis;
  /** Name of this state (e.g. `agent-state`); `[A-Za-z0-9_.-]`, up to 64 characters. */
  namespace: string;
  /** Validates every value before it is written (zod or anything with `safeParse`). */
  schema?: ValueSchema<T>;
  nearCache?: {
    /** Entries held per instance; the snapshot loads at most this many. @default 10_000 */
    max?: number;
    /** Entry lifetime; expired entries remain only as a stale fallback. @default 60_000 */
    ttlMs?: number;
  };
  /** The event log Redis is rebuilt from when it is empty. Without it an empty Redis starts a new, empty generation. */
  source?: StateSource<T>;
  /** Dedicated connection for the bus. @default redis.duplicate() */
  subscriber?: StateCacheRedis;
  /** Hash partitions (slot, sequence and bus stream each); fixed for the namespace's life. @default 16 */
  partitions?: number;
  /** Upper bound for every Redis call the cache makes. @default 1_000 */
  commandTimeoutMs?: number;
  /** How long a DELETE keeps its version; must outlive reordering and rebuilds. @default 86_400_000 */
  tombstoneTtlMs?: number;
  /** Longest accepted key. @default 512 */
  maxKeyLength?: number;
  /** Events per Lua call (bounds how long one script blocks Redis). @default 500 */
  maxEventsPerScript?: number;
  lease?: {
    /** Rebuild lease lifetime. @default 15_000 */
    ttlMs?: number;
    /** Rebuild lease heartbeat; below `ttlMs`. @default 5_000 */
    heartbeatMs?: number;
  };
  /** Events per rebuild step (one round trip, one progress event, one recorded offset). @default 1_000 */
  rebuildBatchSize?: number;
  /** HSCAN page size for `start()` and `entries()`. @default 1_000 */
  snapshotBatchSize?: number;
  /** While degraded: how often Redis is probed and the lease tried. @default 1_000 */
  recoveryIntervalMs?: number;
  /** How often bus sequences are compared with Redis to find lost messages. @default 1_000 */
  busCheckIntervalMs?: number;
  /** Remembered invalidations (key -> newest version told). @default 50_000 */
  recentInvalidationsMax?: number;
  /** pino-compatible logger. @default undefined (silent) */
  logger?: Logger;
}

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.number().int().min(min).max(max);
const hasMethods =
  (...names: string[]) =>
  (v: unknown) =>
    typeof v === 'object' &&
    v !== null &&
    names.every((n) => typeof (v as Record<string, unknown>)[n] === 'function');

const schema = z
  .object({
    redis: z.custom<StateCacheRedis>(hasMethods('defineCommand', 'duplicate', 'pipeline', 'hget'), {
      message: 'expected an ioredis client or Cluster',
    }),
    namespace: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'expected 1-64 characters of [A-Za-z0-9_.-]'),
    schema: z
      .custom<ValueSchema<unknown>>(hasMethods('safeParse'), { message: 'expected a zod schema' })
      .optional(),
    nearCache: z
      .object({ max: int(1).default(defaults.nearCacheMax), ttlMs: int(1).default(defaults.nearCacheTtlMs) })
      .strict()
      .default({ max: defaults.nearCacheMax, ttlMs: defaults.nearCacheTtlMs }),
    source: z.custom<StateSource<unknown>>(hasMethods('read'), { message: 'expected { read() }' }).optional(),
    subscriber: z
      .custom<StateCacheRedis>(hasMethods('subscribe', 'on'), { message: 'expected an ioredis client' })
      .optional(),
    partitions: int(1, 1024).default(defaults.partitions),
    commandTimeoutMs: int(1).default(defaults.commandTimeoutMs),
    tombstoneTtlMs: int(1).default(defaults.tombstoneTtlMs),
    maxKeyLength: int(1, 65_536).default(defaults.maxKeyLength),
    maxEventsPerScript: int(1, 10_000).default(defaults.maxEventsPerScript),
    lease: z
      .object({
        ttlMs: int(100).default(defaults.leaseTtlMs),
        heartbeatMs: int(10).default(defaults.leaseHeartbeatMs),
      })
      .strict()
      .default({ ttlMs: defaults.leaseTtlMs, heartbeatMs: defaults.leaseHeartbeatMs })
      .refine((l) => l.heartbeatMs < l.ttlMs, {
        message: 'heartbeatMs must be below ttlMs',
        path: ['heartbeatMs'],
      }),
    rebuildBatchSize: int(1, 100_000).default(defaults.rebuildBatchSize),
    snapshotBatchSize: int(1, 100_000).default(defaults.snapshotBatchSize),
    recoveryIntervalMs: int(10).default(defaults.recoveryIntervalMs),
    busCheckIntervalMs: int(10).default(defaults.busCheckIntervalMs),
    recentInvalidationsMax: int(1).default(defaults.recentInvalidationsMax),
    logger: z
      .custom<Logger>(hasMethods('debug', 'info', 'warn', 'error'), {
        message: 'expected a pino-style logger',
      })
      .optional(),
  })
  .strict();

export type ResolvedOptions<T> = Omit<z.infer<typeof schema>, 'schema' | 'source'> & {
  schema: ValueSchema<T> | undefined;
  source: StateSource<T> | undefined;
};

/** Validates once, at construction; the first problem becomes a ConfigError naming its field. */
export function resolveOptions<T>(options: StateCacheOptions<T>): ResolvedOptions<T> {
  const parsed = schema.safeParse(options, { error: configErrorMap });
  if (!parsed.success) {
    const { field, message } = describeConfigIssue(parsed.error.issues);
    throw new ConfigError(field, message, { cause: parsed.error });
  }
  return parsed.data as ResolvedOptions<T>;
}
