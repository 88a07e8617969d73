import { ConfigError } from './errors.js';
import type { ResolvedOptions } from './options.js';
import type { AcquireOptions } from './types.js';
import { abortsAfterMs } from './validity.js';

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
  /** Region, operation and correlation id as the lock record ends (see `ownerMeta`). */
  meta: string;
}

const MAX_MS = 2_147_483_647;

function int(field: string, value: unknown, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > MAX_MS) {
    throw new ConfigError(field, `must be an integer between ${min} and ${MAX_MS}, got ${String(value)}`);
  }
  return value;
}

/**
 * False for a string with a lone surrogate: it is sent as U+FFFD, so two such names would share a key,
 * and a release message would not match its channel.
 */
export const wellFormed = (s: string): boolean =>
  (s as unknown as { isWellFormed(): boolean }).isWellFormed();

function text(field: string, value: unknown): string {
  if (value === undefined) return '';
  if (typeof value !== 'string' || value.length > 128)
    throw new ConfigError(field, 'must be a string of at most 128 characters');
  if (!wellFormed(value)) throw new ConfigError(field, 'must be well-formed UTF-16 (a lone surrogate)');
  return value;
}

/**
 * The owner metadata a lock record ends with: "<#region> <#operation> <#correlation id> <region>
 * <operation><correlation id>" (lengths in UTF-8 bytes, as Lua counts them, no separators between the
 * three texts). Built here, once per acquire() call, so the acquire script only concatenates it.
 */
/** A TTL too short for a heartbeating lock: it would be lost before its first heartbeat lands. */
export function shortForHeartbeat(
  o: Pick<ResolvedOptions, 'minHeartbeatTtlMs' | 'heartbeatIntervalMs'>,
): ConfigError {
  return new ConfigError(
    'ttlMs',
    `must be >= ${o.minHeartbeatTtlMs} while heartbeating every ${o.heartbeatIntervalMs} ms: the lock must outlive its first heartbeat`,
  );
}

export function ownerMeta(region: string, operation: string, correlationId: string): string {
  const bytes = (s: string) => Buffer.byteLength(s, 'utf8');
  return `${bytes(region)} ${bytes(operation)} ${bytes(correlationId)} ${region}${operation}${correlationId}`;
}

/**
 * Checks a resource name (or a semaphore's or an election's name, as the resource it becomes, reported
 * as `field`) against the manager's limits.
 */
export function checkName(field: string, resource: unknown, o: ResolvedOptions): asserts resource is string {
  if (typeof resource !== 'string') throw new ConfigError(field, 'expected a string');
  if (resource.length === 0) throw new ConfigError(field, 'must not be empty');
  if (resource.length > o.maxResourceLength) {
    throw new ConfigError(field, `longer than maxResourceLength (${o.maxResourceLength})`);
  }
  // Keys are `<prefix>{<resource>}...`: a leading '}' would close the Cluster hash tag at once, and a
  // lock's keys would land in different slots.
  if (resource.charCodeAt(0) === 0x7d) throw new ConfigError(field, "must not start with '}'");
  if (!wellFormed(resource)) throw new ConfigError(field, 'must be well-formed UTF-16 (a lone surrogate)');
}

/** Rejects options outside `allowed`, naming the first unknown one (a misspelt option is never ignored). */
export function knownKeys(options: object, allowed: ReadonlySet<string>, what: string): void {
  for (const key in options) if (!allowed.has(key)) throw new ConfigError(key, `unknown ${what} option`);
}

/** Validates a resource name and acquire options against the manager's limits; no Redis call is made. */
export function parseAcquire(
  resource: unknown,
  input: AcquireOptions | undefined,
  o: ResolvedOptions,
): ResolvedAcquire {
  checkName('resource', resource, o);
  // Per-call options are checked by hand: this runs on every acquire (zod validates the constructor).
  const a = (input ?? {}) as Record<string, unknown>;
  if (typeof a !== 'object') throw new ConfigError('options', 'expected an object');
  knownKeys(a, ACQUIRE_KEYS, 'acquire');
  if (a.signal !== undefined && !(a.signal instanceof AbortSignal))
    throw new ConfigError('signal', 'expected an AbortSignal');
  if (a.heartbeat !== undefined && typeof a.heartbeat !== 'boolean')
    throw new ConfigError('heartbeat', 'expected a boolean');
  const heartbeat = a.heartbeat !== false;
  const ttlMs = int('ttlMs', a.ttlMs, o.defaultTtlMs, 1);
  if (ttlMs > o.maxTtlMs) throw new ConfigError('ttlMs', `must be <= maxTtlMs (${o.maxTtlMs})`);
  if (heartbeat && ttlMs < o.minHeartbeatTtlMs) throw shortForHeartbeat(o);
  leavesValidity(o, ttlMs);
  const operation = text('operation', a.operation);
  const correlationId = text('correlationId', a.correlationId);
  return {
    ttlMs,
    operation,
    correlationId,
    meta: ownerMeta(o.region, operation, correlationId),
    signal: a.signal as AbortSignal | undefined,
    waitMs: int('waitMs', a.waitMs, 0, 0),
    heartbeat,
    // Infinity: no max hold (an election leads until it loses); a finite one must fit a timer.
    maxHoldMs: a.maxHoldMs === Infinity ? Infinity : int('maxHoldMs', a.maxHoldMs, o.maxHoldMs, 1),
  };
}

/**
 * Throws unless a lock of `ttlMs` is still valid for a moment after the clock-drift allowance and the
 * signal margin: shorter, every grant would be given back as too late (or its signal abort at once).
 */
export function leavesValidity(o: ResolvedOptions, ttlMs: number): void {
  if (abortsAfterMs(o, ttlMs) > 0) return;
  throw new ConfigError('ttlMs', `too short: nothing is left after the clock-drift allowance (${ttlMs} ms)`);
}
