import { configErrorMap, describeConfigIssue } from '@cxkit/internal';
import { z } from 'zod';
import type { Queryable } from './db.js';
import { defaults } from './defaults.js';
import { ConfigError } from './errors.js';

/** pino-compatible logger; every method optional in spirit, all four expected. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface LocalCacheOptions {
  /** Most records held; 0 disables the LRU front. @default 10_000 */
  max?: number;
  /** Longest time a record is served from memory (never past its expiry). @default 60_000 */
  ttlMs?: number;
  /** Total bytes of cached responses. @default 67_108_864 */
  maxBytes?: number;
}

export interface IdempotencyStoreOptions {
  /** A pg.Pool (enables LISTEN/NOTIFY waits) or anything with `query(text, params)` -> `{ rows }`. */
  db: Queryable;
  /** Table name, optionally schema-qualified. @default 'idempotency_keys' */
  table?: string;
  /** How long a key is remembered. @default 86_400 */
  ttlSeconds?: number;
  /** Lease of an in-progress run; after it a repeat takes the key over. @default 30_000 */
  inProgressTtlMs?: number;
  /** LRU front for completed records, or `false` to disable it. */
  localCache?: LocalCacheOptions | false;
  /** Store thrown errors and 5xx responses as final instead of releasing the key. @default false */
  storeFailures?: boolean;
  /** Largest storable response in bytes. @default 1_048_576 */
  maxResponseBytes?: number;
  /** Poll interval while waiting on an in-progress key. @default 250 */
  waitPollMs?: number;
  /** Retry budget for claims and reads while Postgres is unreachable. @default 1_000 */
  unavailableRetryMs?: number;
  /**
   * Most calls whose claims (or completions) share one statement. Calls made in the same turn of the
   * event loop, outside a caller's transaction, are sent together: one round trip and one commit for
   * all of them. 1 sends every call on its own. @default 64
   */
  maxBatch?: number;
  /**
   * Send statements as pg named prepared statements (`{ name, text, values }`): parse and plan once per
   * connection. @default true for a pg.Pool or pg.Client (anything with `connect()`), else false
   */
  preparedStatements?: boolean;
  logger?: Logger;
}

const positiveInt = z.number().int().positive();
const identifier = /^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$/;

const schema = z.object({
  db: z.custom<Queryable>(
    (v) => typeof v === 'object' && v !== null && typeof (v as Queryable).query === 'function',
    'expected a pg.Pool or an object with query(text, params)',
  ),
  table: z
    .string()
    .regex(identifier, 'expected an SQL identifier (optionally schema.table)')
    .default(defaults.table),
  ttlSeconds: positiveInt.max(366 * 86_400).default(defaults.ttlSeconds),
  inProgressTtlMs: z.number().int().min(100).max(86_400_000).default(defaults.inProgressTtlMs),
  localCache: z
    .union([
      z.literal(false),
      z.object({
        max: z.number().int().min(0).default(defaults.localCacheMax),
        ttlMs: positiveInt.default(defaults.localCacheTtlMs),
        maxBytes: positiveInt.default(defaults.localCacheMaxBytes),
      }),
    ])
    .default({
      max: defaults.localCacheMax,
      ttlMs: defaults.localCacheTtlMs,
      maxBytes: defaults.localCacheMaxBytes,
    }),
  storeFailures: z.boolean().default(false),
  maxResponseBytes: positiveInt.default(defaults.maxResponseBytes),
  waitPollMs: z.number().int().min(10).default(defaults.waitPollMs),
  unavailableRetryMs: z.number().int().min(0).default(defaults.unavailableRetryMs),
  maxBatch: z.number().int().min(1).max(1000).default(defaults.maxBatch),
  preparedStatements: z.boolean().optional(),
  logger: z
    .custom<Logger>(
      (v) =>
        typeof v === 'object' &&
        v !== null &&
        ['debug', 'info', 'warn', 'error'].every((m) => typeof (v as never)[m] === 'function'),
      'expected a pino-compatible logger (debug, info, warn, error)',
    )
    .optional(),
});

export type ResolvedOptions = z.output<typeof schema>;

/** Validates options once, at construction; the first problem becomes a `ConfigError` naming the field. */
export function resolveOptions(options: IdempotencyStoreOptions): ResolvedOptions {
  const parsed = schema.safeParse(options ?? {}, { error: configErrorMap });
  if (parsed.success) {
    // A record that expired under a live lease could be claimed again while its handler still runs.
    if (parsed.data.ttlSeconds * 1000 <= parsed.data.inProgressTtlMs) {
      throw new ConfigError(
        'inProgressTtlMs',
        `must be shorter than ttlSeconds (${parsed.data.ttlSeconds} s): a record must outlive the lease of its run`,
      );
    }
    return parsed.data;
  }
  const { field, message } = describeConfigIssue(parsed.error.issues);
  throw new ConfigError(field, message);
}
