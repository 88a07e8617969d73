/** One in-flight call per key with the fingerprint it was started for. */
interface Flight<T> {
  fingerprint: string;
  promise: Promise<T>;
}

/**
 * Coalesces concurrent calls for the same key in one process into one database call. Bounded: past
 * `max` distinct keys, calls run on their own (correct, just not coalesced).
 */
export class SingleFlight<T> {
  readonly #flights = new Map<string, Flight<T>>();

  constructor(private readonly max: number) {}

  /**
   * Joins the flight for `key` when it was started for the same fingerprint (`joined: true`), waits for a
   * flight with another fingerprint to end first, else starts `fn` as the new flight.
   */
  async run(key: string, fingerprint: string, fn: () => Promise<T>): Promise<{ joined: boolean; value: T }> {
    for (let flight = this.#flights.get(key); flight; flight = this.#flights.get(key)) {
      if (flight.fingerprint === fingerprint) return { joined: true, value: await flight.promise };
      await flight.promise.catch(() => undefined);
    }
    if (this.#flights.size >= this.max) return { joined: false, value: await fn() };
    const promise = fn();
    this.#flights.set(key, { fingerprint, promise });
    try {
      return { joined: false, value: await promise };
    } finally {
      if (this.#flights.get(key)?.promise === promise) this.#flights.delete(key);
    }
  }

  get size(): number {
    return this.#flights.size;
  }
}
