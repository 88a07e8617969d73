import { z } from 'zod';
import type { LockNodes } from './client.js';
import { defaults } from './defaults.js';
import { ConfigError } from './errors.js';
import type { AcquireOptions, Logger } from './types.js';

export interface RetryOptions {
  /** @default 1_000 */
  retries?: number;
  /** @default 50 */
  minDelayMs?: number;
  /** @default 500 */
  maxDelayMs?: number;
}

export interface LockManagerOptions {
  /** One ioredis client (single master), one ioredis `Cluster`, or an array of independent masters. */
  nodes: LockNodes;
  /** Votes needed in quorum mode; must be a majority. @default floor(n / 2) + 1 */
  quorum?: number;
  /** Replica acknowledgements (`WAIT n`) each write needs before it counts. @default 0 */
  replicaAcks?: number;
  /** @default 200 */
  replicaAckTimeoutMs?: number;
  /** @default 'default' */
  region?: string;
  /** @default 15_000 */
  defaultTtlMs?: number;
  /** @default 60_000 */
  maxTtlMs?: number;
  /** @default 5_000 */
  heartbeatIntervalMs?: number;
  /** @default 15_000 */
  staleAfterMs?: number;
  /** @default 0.01 */
  driftFactor?: number;
  /** @default 1_000 */
  requestTimeoutMs?: number;
  /** @default 600_000 */
  maxHoldMs?: number;
  retry?: RetryOptions;
  /** Set to `false` only for nodes that never lose acknowledged writes (`appendfsync always`). @default true */
  amnesiaGuard?: boolean;
  /** @default 'cxkit:locks:' */
  prefix?: string;
  /** @default 10_000 */
  auditMaxLen?: number;
  /** @default 512 */
  maxResourceLength?: number;
  /** @default 10_000 */
  maxHeldLocks?: number;
  /** @default 10_000 */
  maxWaiters?: number;
  logger?: Logger;
}

const ms = (max = 2_147_483_647) => z.number().int().positive().max(max);
const count = () => z.number().int().nonnegative();

const managerSchema = z.strictObject({
  nodes: z.any(),
  quorum: z.number().int().positive().optional(),
  replicaAcks: count().max(16).default(defaults.replicaAcks),
  replicaAckTimeoutMs: ms().default(defaults.replicaAckTimeoutMs),
  region: z.string().min(1).max(64).default(defaults.region),
  defaultTtlMs: ms().default(defaults.defaultTtlMs),
  maxTtlMs: ms().default(defaults.maxTtlMs),
  heartbeatIntervalMs: ms().default(defaults.heartbeatIntervalMs),
  staleAfterMs: ms().default(defaults.staleAfterMs),
  driftFactor: z.number().min(0).max(0.5).default(defaults.driftFactor),
  requestTimeoutMs: ms().default(defaults.requestTimeoutMs),
  maxHoldMs: ms().default(defaults.maxHoldMs),
  retry: z
    .strictObject({
      retries: count().default(defaults.retry.retries),
      minDelayMs: ms().default(defaults.retry.minDelayMs),
      maxDelayMs: ms().default(defaults.retry.maxDelayMs),
    })
    .default({ ...defaults.retry }),
  amnesiaGuard: z.boolean().default(defaults.amnesiaGuard),
  prefix: z.string().max(128).default(defaults.prefix),
  auditMaxLen: z.number().int().positive().default(defaults.auditMaxLen),
  maxResourceLength: z.number().int().positive().max(65_536).default(defaults.maxResourceLength),
  maxHeldLocks: z.number().int().positive().default(defaults.maxHeldLocks),
  maxWaiters: z.number().int().positive().default(defaults.maxWaiters),
  logger: z
    .custom<Logger>((v) => typeof v === 'object' && v !== null && typeof (v as Logger).warn === 'function')
    .optional(),
});

export type ResolvedOptions = Omit<z.output<typeof managerSchema>, 'nodes' | 'quorum'> & {
  nodes: LockNodes;
  quorum: number | undefined;
};

function firstIssue(error: z.ZodError, root?: string): ConfigError {
  const issue = error.issues[0];
  const unknown = issue?.code === 'unrecognized_keys' ? issue.keys[0] : undefined;
  const path = [...(issue?.path.map(String) ?? []), ...(unknown ? [unknown] : [])].join('.');
  const field = [root, path].filter(Boolean).join('.') || 'options';
  return new ConfigError(field, issue?.message ?? 'invalid', { cause: error });
}

const looksLikeClient = (v: unknown) =>
  typeof v === 'object' && v !== null && typeof (v as { evalsha?: unknown }).evalsha === 'function';

/** Validates constructor options once; throws `ConfigError` naming the first bad field. */
export function parseManagerOptions(input: LockManagerOptions): ResolvedOptions {
  if (typeof input !== 'object' || input === null) throw new ConfigError('options', 'expected an object');
  const parsed = managerSchema.safeParse(input);
  if (!parsed.success) throw firstIssue(parsed.error);
  const o = parsed.data;
  const nodes = input.nodes;
  if (Array.isArray(nodes)) {
    if (nodes.length === 0) throw new ConfigError('nodes', 'needs at least one client');
    const bad = nodes.findIndex((n) => !looksLikeClient(n));
    if (bad >= 0) throw new ConfigError(`nodes.${bad}`, 'expected an ioredis client');
    if (o.quorum !== undefined && (o.quorum <= nodes.length / 2 || o.quorum > nodes.length)) {
      throw new ConfigError('quorum', `must be a majority of ${nodes.length} nodes (> ${nodes.length / 2})`);
    }
  } else if (!looksLikeClient(nodes)) {
    throw new ConfigError('nodes', 'expected an ioredis client, an ioredis Cluster or an array of clients');
  } else if (o.quorum !== undefined && o.quorum !== 1) {
    throw new ConfigError('quorum', 'only applies to an array of independent masters');
  }
  if (o.defaultTtlMs > o.maxTtlMs)
    throw new ConfigError('defaultTtlMs', `must be <= maxTtlMs (${o.maxTtlMs})`);
  if (o.heartbeatIntervalMs >= o.staleAfterMs) {
    throw new ConfigError('heartbeatIntervalMs', `must be < staleAfterMs (${o.staleAfterMs})`);
  }
  if (o.heartbeatIntervalMs >= o.defaultTtlMs) {
    throw new ConfigError('heartbeatIntervalMs', `must be < defaultTtlMs (${o.defaultTtlMs})`);
  }
  if (o.retry.minDelayMs > o.retry.maxDelayMs) {
    throw new ConfigError('retry.minDelayMs', `must be <= retry.maxDelayMs (${o.retry.maxDelayMs})`);
  }
  return { ...o, nodes, quorum: o.quorum };
}

const ACQUIRE_KEYS = new Set([
  'ttlMs',
  'operation',
  'correlationId',
  'signal',
  'waitMs',
  'heartbeat',
  'maxHoldMs',
]);

export interface ResolvedAcquire {
  ttlMs: number;
  operation: string;
  correlationId: string;
  signal: AbortSignal | undefined;
  waitMs: number;
  heartbeat: boolean;
  maxHoldMs: number;
}

const MAX_MS = 2_147_483_647;

function int(field: string, value: unknown, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > MAX_MS) {
    throw new ConfigError(field, `must be an integer between ${min} and ${MAX_MS}, got ${String(value)}`);
  }
  return value;
}

function text(field: string, value: unknown): string {
  if (value === undefined) return '';
  if (typeof value !== 'string' || value.length > 128)
    throw new ConfigError(field, 'must be a string of at most 128 characters');
  return value;
}

/** Validates a resource name and acquire options against the manager's limits; no Redis call is made. */
export function parseAcquire(
  resource: unknown,
  input: AcquireOptions | undefined,
  o: ResolvedOptions,
): ResolvedAcquire {
  if (typeof resource !== 'string') throw new ConfigError('resource', 'expected a string');
  if (resource.length === 0) throw new ConfigError('resource', 'must not be empty');
  if (resource.length > o.maxResourceLength) {
    throw new ConfigError('resource', `longer than maxResourceLength (${o.maxResourceLength})`);
  }
  // Per-call options are checked by hand: this runs on every acquire (zod validates the constructor).
  const a = (input ?? {}) as Record<string, unknown>;
  if (typeof a !== 'object') throw new ConfigError('options', 'expected an object');
  for (const key in a) if (!ACQUIRE_KEYS.has(key)) throw new ConfigError(key, 'unknown acquire option');
  if (a.signal !== undefined && !(a.signal instanceof AbortSignal))
    throw new ConfigError('signal', 'expected an AbortSignal');
  if (a.heartbeat !== undefined && typeof a.heartbeat !== 'boolean')
    throw new ConfigError('heartbeat', 'expected a boolean');
  const heartbeat = a.heartbeat !== false;
  const ttlMs = int('ttlMs', a.ttlMs, o.defaultTtlMs, 1);
  if (ttlMs > o.maxTtlMs) throw new ConfigError('ttlMs', `must be <= maxTtlMs (${o.maxTtlMs})`);
  if (heartbeat && ttlMs <= o.heartbeatIntervalMs) {
    throw new ConfigError(
      'ttlMs',
      `must be > heartbeatIntervalMs (${o.heartbeatIntervalMs}) while heartbeating`,
    );
  }
  return {
    ttlMs,
    operation: text('operation', a.operation),
    correlationId: text('correlationId', a.correlationId),
    signal: a.signal as AbortSignal | undefined,
    waitMs: int('waitMs', a.waitMs, 0, 0),
    heartbeat,
    maxHoldMs: int('maxHoldMs', a.maxHoldMs, o.maxHoldMs, 1),
  };
}
