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
   * Joins the flight for `key` when it was started for the same identity (`joined: true`); otherwise
   * starts `fn` as the key's flight. A call with another identity runs on its own and lets the database
   * decide (422, 409 or a takeover): it must never queue behind a run it does not belong to.
   */
  async run(key: string, fingerprint: string, fn: () => Promise<T>): Promise<{ joined: boolean; value: T }> {
    const flight = this.#flights.get(key);
    if (flight?.fingerprint === fingerprint) return { joined: true, value: await flight.promise };
    if (flight || this.#flights.size >= this.max) return { joined: false, value: await fn() };
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
