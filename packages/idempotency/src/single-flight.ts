/** One in-flight call for a key: its result, and when (if) it started running the handler. */
export interface Flight<T> {
  identity: string;
  promise: Promise<T>;
  /** Resolves with the lease length (ms) when the call claimed the key and its handler started. */
  running: Promise<number>;
  startedAt: number;
}

/**
 * Coalesces concurrent calls for the same key in one process into one database call. Bounded: past
 * `max` distinct keys, calls run on their own (correct, just not coalesced).
 */
export class SingleFlight<T> {
  readonly #flights = new Map<string, Flight<T>>();

  constructor(private readonly max: number) {}

  /** The flight to join for `key`, only when it was started for the same identity. */
  join(key: string, identity: string): Flight<T> | undefined {
    const flight = this.#flights.get(key);
    return flight?.identity === identity ? flight : undefined;
  }

  /**
   * Starts `fn` as the key's flight. A call with another identity while one is in flight runs on its
   * own and lets the database decide (422, 409 or takeover): it never queues behind a run it is not
   * part of.
   */
  start(key: string, identity: string, fn: (onRunning: (leaseMs: number) => void) => Promise<T>): Promise<T> {
    let onRunning!: (leaseMs: number) => void;
    const running = new Promise<number>((resolve) => {
      onRunning = resolve;
    });
    const promise = fn((leaseMs) => {
      flight.startedAt = Date.now();
      onRunning(leaseMs);
    });
    const flight: Flight<T> = { identity, promise, running, startedAt: 0 };
    if (this.#flights.has(key) || this.#flights.size >= this.max) return promise;
    this.#flights.set(key, flight);
    const clear = () => {
      if (this.#flights.get(key) === flight) this.#flights.delete(key);
    };
    promise.then(clear, clear);
    return promise;
  }

  get size(): number {
    return this.#flights.size;
  }
}
