/** One in-flight call for a key: its result, and when (if) it started running the handler. */
export class Flight<T> {
  promise!: Promise<T>;
  /** Date.now() when the call claimed the key and its handler started; 0 until then. */
  startedAt = 0;
  /** The lease length (ms) of that run. */
  leaseMs = 0;
  /**
   * Set by the flight's own call when its run left the key released (a 5xx not stored, a response that
   * could not be stored): joiners claim again instead of sharing its outcome.
   */
  released = false;
  #running: Promise<number> | undefined;
  #resolveRunning: ((leaseMs: number) => void) | undefined;

  constructor(readonly identity: string) {}

  /** Marks the handler as started (called by the flight's own call, once). */
  started(leaseMs: number): void {
    this.startedAt = Date.now();
    this.leaseMs = leaseMs;
    this.#resolveRunning?.(leaseMs);
  }

  /**
   * Resolves with the lease length once the handler starts. Built only when a joiner asks: most
   * flights have none, and a promise per call is a visible share of a miss's CPU.
   */
  get running(): Promise<number> {
    if (!this.#running) {
      this.#running =
        this.startedAt > 0
          ? Promise.resolve(this.leaseMs)
          : new Promise<number>((resolve) => {
              this.#resolveRunning = resolve;
            });
    }
    return this.#running;
  }
}

/** Its handler started and has outlived its lease (a hung handler never settles the flight). */
const expired = (flight: Flight<unknown>) =>
  flight.startedAt > 0 && Date.now() >= flight.startedAt + flight.leaseMs;

/**
 * Coalesces concurrent calls for the same key in one process into one database call. Bounded: past
 * `max` distinct keys, calls run on their own (correct, just not coalesced).
 */
export class SingleFlight<T> {
  readonly #flights = new Map<string, Flight<T>>();

  constructor(private readonly max: number) {}

  /**
   * The flight to join for `key`, only when it was started for the same identity and its handler's
   * lease has not run out: a handler that hangs past its lease is taken over through the database, as
   * a caller in another pod would, instead of answering every repeat here 409 until the process ends.
   */
  join(key: string, identity: string): Flight<T> | undefined {
    const flight = this.#flights.get(key);
    return flight?.identity === identity && !expired(flight) ? flight : undefined;
  }

  /**
   * Starts `fn` as the key's flight. A call with another identity while one is in flight runs on its
   * own and lets the database decide (422, 409 or takeover): it never queues behind a run it is not
   * part of.
   */
  start(key: string, identity: string, fn: (flight: Flight<T>) => Promise<T>): Promise<T> {
    const flight = new Flight<T>(identity);
    const promise = fn(flight);
    flight.promise = promise;
    const current = this.#flights.get(key);
    // A flight whose lease ran out is replaced: identical calls then share the takeover.
    if (current ? !expired(current) : this.#flights.size >= this.max) return promise;
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
