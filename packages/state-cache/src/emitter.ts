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

type Listener<E, K extends keyof E> = (payload: E[K]) => void;

/** Minimal typed emitter whose `on()` returns a disposable; a throwing listener cannot break the cache. */
export class TypedEmitter<E> {
  readonly #listeners = new Map<keyof E, Set<Listener<E, keyof E>>>();

  on<K extends keyof E>(event: K, listener: Listener<E, K>): Disposable {
    const set = this.#listeners.get(event) ?? new Set();
    this.#listeners.set(event, set);
    set.add(listener as Listener<E, keyof E>);
    const dispose = () => {
      set.delete(listener as Listener<E, keyof E>);
    };
    return { dispose, [Symbol.dispose]: dispose };
  }

  protected emit<K extends keyof E>(event: K, payload: E[K]): void {
    for (const listener of this.#listeners.get(event) ?? []) {
      try {
        listener(payload);
      } catch {
        // Listener errors are the listener's problem; the cache's state machine must not stop.
      }
    }
  }
}
