import type { StateCacheError } from './errors/state-cache-error.js';
import type { StateCacheStatus } from './types.js';

/** Typed events of a StateCache. */
export interface StateCacheEvents {
  /** Status changed. */
  status: { from: StateCacheStatus; to: StateCacheStatus; reason: string };
  /** A rebuild step was applied to Redis. `applied` counts events written so far in this rebuild. */
  'rebuild-progress': { applied: number; offset: string | undefined };
  /** This instance finished rebuilding Redis. */
  'rebuild-complete': { applied: number; offset: string | undefined; generation: string; durationMs: number };
  /** Bus messages were lost (sequence gap, reconnect, or a sequence check); near-cache entries were distrusted. */
  gap: {
    partition: number | 'all';
    expected: number | undefined;
    received: number | undefined;
    reason: string;
  };
  /** A background failure (rebuild, bus); the cache keeps running and retries. */
  error: { error: StateCacheError | Error };
}

export interface Disposable {
  dispose(): void;
  [Symbol.dispose](): void;
}
