/** An unsubscribe function that is also `Disposable` (works with `using`). */
export type Unsubscribe = (() => void) & Disposable;

type Listener<T> = (payload: T) => void;

const disposeSymbol: typeof Symbol.dispose = Symbol.dispose ?? Symbol.for('Symbol.dispose');

/**
 * A minimal typed emitter: `on()` returns an unsubscribe; a throwing listener is reported to
 * `onListenerError` and never breaks the emitter or other listeners.
 */
export class Emitter<Events extends { [K in keyof Events]: unknown }> {
  readonly #listeners = new Map<keyof Events, Set<Listener<never>>>();

  constructor(private readonly onListenerError: (err: unknown) => void = () => {}) {}

  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): Unsubscribe {
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener as Listener<never>);
    const off = (() => {
      set.delete(listener as Listener<never>);
    }) as Unsubscribe;
    off[disposeSymbol] = off;
    return off;
  }

  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    const set = this.#listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        (listener as Listener<Events[K]>)(payload);
      } catch (err) {
        this.onListenerError(err);
      }
    }
  }

  clear(): void {
    this.#listeners.clear();
  }
}
