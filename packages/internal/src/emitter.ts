import diagnostics from 'node:diagnostics_channel';

/** Removes the listener: call it, call `dispose()`, or let `using` do it. */
export type Unsubscribe = (() => void) & { dispose(): void; [Symbol.dispose](): void };

export type Listener<T> = (payload: T) => void;

export interface EmitterOptions<Events extends object> {
  /** Receives what a listener threw; the emitter and the other listeners carry on. Default: ignore. */
  onListenerError?: (err: unknown, event: keyof Events) => void;
  /** When set, every event is also published on the `node:diagnostics_channel` `${prefix}${event}`. */
  diagnosticsPrefix?: string;
  /** `on()` throws a `RangeError` past this many listeners per event, so a leak shows up as an error. */
  maxListeners?: number;
}

// Node 20 has `Symbol.dispose`; the registered symbol keeps older runtimes from writing `undefined`.
const disposeSymbol: typeof Symbol.dispose = Symbol.dispose ?? Symbol.for('Symbol.dispose');

/**
 * A small typed emitter. Listeners run synchronously in subscription order over a snapshot, so a
 * listener that unsubscribes (itself or another) during an emit does not change who gets that event.
 */
export class Emitter<Events extends object> {
  readonly #listeners = new Map<keyof Events, Set<Listener<never>>>();
  readonly #channels = new Map<keyof Events, diagnostics.Channel>();
  readonly #onListenerError: (err: unknown, event: keyof Events) => void;
  readonly #prefix: string | undefined;
  readonly #maxListeners: number;

  constructor(options: EmitterOptions<Events> = {}) {
    this.#onListenerError = options.onListenerError ?? (() => {});
    this.#prefix = options.diagnosticsPrefix;
    this.#maxListeners = options.maxListeners ?? Number.POSITIVE_INFINITY;
  }

  #channel(event: keyof Events): diagnostics.Channel | undefined {
    if (this.#prefix === undefined) return undefined;
    let ch = this.#channels.get(event);
    if (!ch) {
      ch = diagnostics.channel(`${this.#prefix}${String(event)}`);
      this.#channels.set(event, ch);
    }
    return ch;
  }

  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): Unsubscribe {
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    if (set.size >= this.#maxListeners) {
      throw new RangeError(`more than ${this.#maxListeners} listeners for "${String(event)}" (a leak?)`);
    }
    const own = set;
    own.add(listener as Listener<never>);
    const off = (() => {
      own.delete(listener as Listener<never>);
    }) as Unsubscribe;
    off.dispose = off;
    off[disposeSymbol] = off;
    return off;
  }

  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    const ch = this.#channel(event);
    if (ch?.hasSubscribers) ch.publish(payload);
    const set = this.#listeners.get(event);
    if (!set || set.size === 0) return;
    for (const listener of [...set]) {
      try {
        (listener as Listener<Events[K]>)(payload);
      } catch (err) {
        this.#onListenerError(err, event);
      }
    }
  }

  /** Whether anyone listens (here or on the diagnostics channel): hot paths skip building payloads otherwise. */
  has(event: keyof Events): boolean {
    return (this.#listeners.get(event)?.size ?? 0) > 0 || this.#channel(event)?.hasSubscribers === true;
  }

  /** Removes every listener (diagnostics channel subscribers are not ours to remove). */
  clear(): void {
    this.#listeners.clear();
  }
}
