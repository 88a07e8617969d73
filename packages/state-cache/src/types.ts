import type { Cluster, Redis } from 'ioredis';

/** An ioredis client or Cluster the caller already has; the cache registers its scripts on it. */
export type StateCacheRedis = Redis | Cluster;

/** What happened to a key. `CREATED` and `UPDATED` both carry the full new value (state transfer). */
export type StateEventType = 'CREATED' | 'UPDATED' | 'DELETED';

/** One versioned change. Versions are non-negative safe integers, strictly increasing per key. */
export interface StateEvent<T> {
  key: string;
  version: number;
  type: StateEventType;
  /** Required for `CREATED`/`UPDATED`, ignored for `DELETED`. */
  value?: T;
}

/** Per-event outcome of `apply()`. */
export interface ApplyResult {
  key: string;
  version: number;
  /** `ignored`: Redis already held this or a newer version (or a tombstone that is not older). */
  outcome: 'applied' | 'ignored';
  /** The version Redis holds for the key after this event (-1: nothing stored). */
  storedVersion: number;
}

/** What a read returns. `stale: true` means Redis could not confirm it (unreachable, being rebuilt). */
export interface CacheRead<T> {
  found: boolean;
  value: T | undefined;
  /** Version of the value (or of the tombstone when `found` is false); undefined when unknown. */
  version: number | undefined;
  stale: boolean;
}

/** One entry streamed by `entries()`. */
export interface CacheEntry<T> {
  key: string;
  value: T;
  version: number;
}

export type StateCacheStatus = 'cold' | 'warming' | 'ready' | 'degraded' | 'rebuilding';

/** One record of an event source: the event and the opaque offset that follows it. */
export interface SourceRecord<T> {
  offset: string;
  event: StateEvent<T>;
}

export interface SourceReadOptions {
  /** Resume after this offset; undefined reads from the beginning. Sources that cannot seek ignore it. */
  fromOffset: string | undefined;
  signal: AbortSignal;
}

/**
 * The event log Redis is rebuilt from (a Postgres outbox, a Kafka topic, ...). `read` yields records in
 * log order and ends once it has caught up with the log as it was when the read began (or later).
 */
export interface StateSource<T> {
  read(options: SourceReadOptions): AsyncIterable<SourceRecord<T>>;
}

/** pino-compatible logger. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Anything with zod's `safeParse`. */
export interface ValueSchema<T> {
  safeParse(value: unknown): { success: true; data: T } | { success: false; error: unknown };
}
