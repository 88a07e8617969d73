import type { IncompatibleReason } from './types.js';

/** Events a store emits, by name. */
export interface CheckpointEvents {
  saved: { sessionId: string; revision: number; checkpointId: string; savedAt: Date; bytes: number };
  conflict: { sessionId: string; expectedRevision: number; actualRevision: number };
  staleFence: { sessionId: string; fence: number; highestFence: number };
  migrated: {
    sessionId: string;
    revision: number;
    fromVersion: number;
    toVersion: number;
    writtenBack: boolean;
  };
  incompatible: {
    sessionId: string;
    revision: number | undefined;
    reason: IncompatibleReason;
    detail: string;
    quarantined: boolean;
  };
  deleted: { sessionId: string };
}

/** Removes the listener; also usable with `using` (Symbol.dispose). */
export interface Unsubscribe {
  (): void;
  dispose(): void;
  [Symbol.dispose](): void;
}

type Listener<T> = (event: T) => void;

/**
 * A small typed emitter. A throwing listener is reported to `onListenerError` and never breaks a save
 * or a read; the listener count per event is capped so a leak shows up as an error, not as memory.
 */
export class TypedEvents<M extends object> {
  readonly #listeners = new Map<keyof M, Set<Listener<never>>>();

  constructor(
    private readonly onListenerError: (event: keyof M, err: unknown) => void,
    private readonly maxListeners = 100,
  ) {}

  on<K extends keyof M>(event: K, listener: Listener<M[K]>): Unsubscribe {
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    if (set.size >= this.maxListeners) {
      throw new RangeError(`more than ${this.maxListeners} listeners for "${String(event)}" (a leak?)`);
    }
    set.add(listener as Listener<never>);
    const off = (() => {
      set.delete(listener as Listener<never>);
    }) as Unsubscribe;
    off.dispose = off;
    off[Symbol.dispose] = off;
    return off;
  }

  emit<K extends keyof M>(event: K, payload: M[K]): void {
    const set = this.#listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        (listener as Listener<M[K]>)(payload);
      } catch (err) {
        this.onListenerError(event, err);
      }
    }
  }
}
