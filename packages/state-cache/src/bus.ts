import { bounded } from './timeout.js';
import type { StateCacheRedis } from './types.js';

/** One invalidation as published by the apply script. */
export interface Invalidation {
  partition: number;
  seq: number;
  writer: string;
  /** [key, version, deleted] for every event the script applied. */
  changes: [string, number, boolean][];
}

export interface BusHandlers {
  invalidation(message: Invalidation): void;
  /** Messages of a partition were lost between `expected` and `received`. */
  gap(partition: number, expected: number, received: number, reason: string): void;
  control(message: { c: string; g?: string }): void;
  down(): void;
  up(): void;
}

/**
 * The invalidation bus: one pub/sub channel per namespace, each message carrying its partition's
 * monotonic sequence. A jump in sequence, a reconnect, or a sequence that Redis reports but that
 * never arrived (see `check`) are all treated as lost messages.
 */
export class Bus {
  readonly #applied: number[];
  /** Sequence Redis reported at the previous check, per partition (what must have arrived by now). */
  readonly #due: (number | undefined)[];
  #down = false;
  #subscribed = false;
  #listeners: [string, (...args: never[]) => void][] = [];

  constructor(
    private readonly subscriber: StateCacheRedis,
    private readonly channel: string,
    partitions: number,
    private readonly handlers: BusHandlers,
  ) {
    this.#applied = new Array<number>(partitions).fill(0);
    this.#due = new Array<number | undefined>(partitions).fill(undefined);
  }

  async start(): Promise<void> {
    const on = (event: string, fn: (...args: never[]) => void) => {
      this.subscriber.on(event, fn as (...args: unknown[]) => void);
      this.#listeners.push([event, fn]);
    };
    on('message', (channel: string, text: string) => {
      if (channel === this.channel) this.#onMessage(text);
    });
    // Without a listener ioredis prints every reconnect failure; the cache reports state changes instead.
    on('error', () => {});
    on('close', () => {
      if (this.#down) return;
      this.#down = true;
      this.handlers.down();
    });
    on('ready', () => {
      if (!this.#down) {
        void this.#subscribe();
        return;
      }
      // ioredis resubscribes by itself; subscribing again (idempotent) tells us when it took effect,
      // and only then may the cache trust Redis reads to be followed by their invalidations.
      this.subscriber
        .subscribe(this.channel)
        .then(() => {
          // Also when the first subscription failed (its connection dropped under it): this one holds.
          this.#subscribed = true;
          this.#down = false;
          this.handlers.up();
        })
        .catch(() => {});
    });
    // A lazily connecting client (`lazyConnect`, which duplicate() copies) connects only when asked.
    if (this.subscriber.status === 'wait') this.subscriber.connect().catch(() => {});
    if (this.subscriber.status === 'ready') await this.#subscribe();
    else
      await new Promise<void>((resolve) =>
        this.subscriber.once('ready', () => this.#subscribe().then(resolve)),
      );
  }

  /** First subscription (it may have to wait for the connection's first 'ready'). */
  async #subscribe(): Promise<void> {
    if (this.#subscribed) return;
    try {
      await this.subscriber.subscribe(this.channel);
      this.#subscribed = true;
    } catch {
      // Not connected yet: the next 'ready' tries again.
    }
  }

  get connected(): boolean {
    return this.#subscribed && !this.#down && this.subscriber.status === 'ready';
  }

  /** Adopts Redis's current sequences (after a snapshot load or reconnect): nothing before them is due. */
  resync(seqs: number[]): void {
    seqs.forEach((s, p) => {
      this.#applied[p] = Math.max(this.#applied[p]!, s);
      this.#due[p] = undefined;
    });
  }

  /**
   * Compares Redis's sequences with what arrived. A sequence seen at the previous check that still has
   * not arrived is a silent loss (dropped messages with no later message to reveal the gap).
   */
  check(seqs: number[]): void {
    seqs.forEach((s, p) => {
      const due = this.#due[p];
      if (due !== undefined && this.#applied[p]! < due) {
        const expected = this.#applied[p]! + 1;
        this.#applied[p] = due;
        this.handlers.gap(p, expected, due, 'sequence check');
      }
      this.#due[p] = s > this.#applied[p]! ? s : undefined;
    });
  }

  #onMessage(text: string): void {
    let msg: { p?: number; s?: number; w?: string; e?: string[]; c?: string; g?: string };
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    if (typeof msg.c === 'string') {
      this.handlers.control({ c: msg.c, g: msg.g });
      return;
    }
    const p = msg.p;
    const seq = msg.s;
    if (
      typeof p !== 'number' ||
      typeof seq !== 'number' ||
      p >= this.#applied.length ||
      !Array.isArray(msg.e)
    )
      return;
    const last = this.#applied[p]!;
    if (last > 0 && seq > last + 1) this.handlers.gap(p, last + 1, seq, 'sequence gap');
    if (seq > last) this.#applied[p] = seq;
    const changes: Invalidation['changes'] = [];
    for (let i = 0; i + 1 < msg.e.length; i += 2) {
      const v = msg.e[i + 1]!;
      const deleted = v.startsWith('-');
      changes.push([msg.e[i]!, Number(deleted ? v.slice(1) : v), deleted]);
    }
    this.handlers.invalidation({ partition: p, seq, writer: msg.w ?? '', changes });
  }

  async publish(redis: StateCacheRedis, message: object): Promise<void> {
    await redis.publish(this.channel, JSON.stringify(message));
  }

  /**
   * Detaches listeners and unsubscribes, waiting at most `timeoutMs`: an unresponsive Redis must not
   * hang close, and a responsive one answers what is already queued on the connection before its
   * owner closes it.
   */
  async close(timeoutMs: number): Promise<void> {
    for (const [event, fn] of this.#listeners) this.subscriber.off(event, fn as (...args: unknown[]) => void);
    this.#listeners = [];
    await bounded('unsubscribe', timeoutMs, this.subscriber.unsubscribe(this.channel)).catch(() => {});
  }
}
