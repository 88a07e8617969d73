/** Payloads of the events an `IdempotencyStore` emits. */
export interface IdempotencyEvents {
  /** Served from the in-process LRU front: no database query. */
  hit: { key: string };
  /** No usable record: this call claimed the key and runs the handler. */
  miss: { key: string; attempt: number };
  /** Served a stored response from Postgres (or from a shared in-flight call). */
  replay: { key: string; source: 'database' | 'in-flight' };
  /** Another run holds a live lease on the key. */
  conflict: { key: string; retryAfterMs: number };
  /** The key was used before with a different request. */
  mismatch: { key: string };
  /** This call took over a run whose lease had expired (a crashed or stalled pod). */
  'lease-expired': { key: string; attempt: number };
  /** One `sweep()` finished. */
  sweep: { deleted: number; batches: number };
}

export type IdempotencyEventName = keyof IdempotencyEvents;

/** Unsubscribes a listener; also usable with `using`. */
export type Unsubscribe = (() => void) & Disposable;
