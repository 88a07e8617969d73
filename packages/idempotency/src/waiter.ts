import type { ListenClient, Queryable } from './db.js';
import { isPoolLike } from './db.js';
import type { Logger } from './options.js';

/**
 * Wakes callers waiting on an in-progress key. With a pg.Pool one dedicated connection LISTENs on the
 * store's channel and the finishing run NOTIFYs; without one (or while it reconnects) waits fall back
 * to a short poll, so a lost notification costs one poll interval. All waiters of one key share one
 * wake-up, so after it they retry together and coalesce into one query.
 */
export class Waiter {
  readonly #wakes = new Map<string, { promise: Promise<void>; wake: () => void }>();
  #listener: Promise<ListenClient | undefined> | undefined;
  #closed = false;
  /** pg may emit 'error' more than once for one broken connection, and after close(): release once. */
  readonly #released = new WeakSet<ListenClient>();

  constructor(
    private readonly db: Queryable,
    readonly channel: string,
    private readonly pollMs: number,
    private readonly maxKeys: number,
    private readonly logger?: Logger,
  ) {}

  /**
   * Starts listening (once); resolves false when only polling is possible right now. A pool of one
   * connection only polls: LISTEN would hold that connection for good and every other query would wait.
   */
  async listen(): Promise<boolean> {
    if (this.#closed || !isPoolLike(this.db) || !canSpare(this.db)) return false;
    this.#listener ??= this.#connect(this.db);
    return (await this.#listener) !== undefined;
  }

  async #connect(pool: { connect(): Promise<ListenClient> }): Promise<ListenClient | undefined> {
    let client: ListenClient | undefined;
    try {
      client = await pool.connect();
      const c = client;
      c.on('notification', (msg) => {
        if (msg.channel === this.channel && msg.payload !== undefined) this.#wakes.get(msg.payload)?.wake();
      });
      c.on('error', (err) => {
        if (this.#released.has(c)) return;
        this.logger?.warn({ err }, 'idempotency LISTEN connection failed; waits poll until it is back');
        this.#listener = undefined;
        this.#release(c, err);
      });
      await c.query(`LISTEN "${this.channel}"`);
      if (!this.#closed) return c;
      this.#release(c, true);
    } catch (err) {
      this.logger?.debug({ err }, 'idempotency LISTEN unavailable; waits poll');
      if (client) this.#release(client, true);
      this.#listener = undefined;
    }
    return undefined;
  }

  #shared(key: string): Promise<void> {
    const existing = this.#wakes.get(key);
    if (existing) return existing.promise;
    let wake!: () => void;
    const promise = new Promise<void>((resolve) => {
      // Jitter spreads pollers from many pods so they do not all hit the row at once.
      const timer = setTimeout(() => wake(), this.pollMs * (0.75 + Math.random() * 0.5));
      timer.unref();
      wake = () => {
        clearTimeout(timer);
        if (this.#wakes.get(key)?.promise === promise) this.#wakes.delete(key);
        resolve();
      };
    });
    // Bounded: past maxKeys distinct keys a waiter gets its own wake-up (still correct, just not shared).
    if (this.#wakes.size < this.maxKeys) this.#wakes.set(key, { promise, wake });
    return promise;
  }

  /** Resolves on a notification for `key`, the next poll, or after `ms`; rejects when `signal` aborts. */
  wait(key: string, ms: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    return new Promise<void>((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = () => {
        cleanup();
        reject(signal?.reason);
      };
      const done = () => {
        cleanup();
        resolve();
      };
      const timer = setTimeout(done, Math.max(1, ms));
      timer.unref();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#shared(key).then(done);
    });
  }

  /** Releases the LISTEN connection and wakes every waiter. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const { wake } of [...this.#wakes.values()]) wake();
    const client = await this.#listener;
    this.#listener = undefined;
    if (client) {
      await client.query(`UNLISTEN "${this.channel}"`).catch(() => undefined);
      this.#release(client);
    }
  }

  #release(client: ListenClient, err?: Error | boolean): void {
    if (this.#released.has(client)) return;
    this.#released.add(client);
    if (!err) {
      // A healthy connection goes back to the pool (which re-adds its own idle error listener): drop
      // ours. A broken one is destroyed; our guarded listener stays to absorb its late errors.
      client.removeAllListeners?.('notification');
      client.removeAllListeners?.('error');
    }
    client.release(err);
  }
}

/** Whether a pool can lend one connection to LISTEN for good (pg.Pool says its size in `options.max`). */
function canSpare(pool: object): boolean {
  const max = (pool as { options?: { max?: unknown } }).options?.max;
  return typeof max !== 'number' || max >= 2;
}

/**
 * `promise`'s value, or undefined once `ms` have passed; rejects when `signal` aborts. What it waits on
 * goes on (it is shared with other callers), only this caller stops waiting.
 */
export function within<T>(promise: Promise<T>, ms: number, signal?: AbortSignal): Promise<T | undefined> {
  signal?.throwIfAborted();
  return new Promise<T | undefined>((resolve, reject) => {
    const onAbort = () => reject(signal?.reason);
    const timer = setTimeout(() => resolve(undefined), Math.max(0, ms));
    timer.unref();
    signal?.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    });
  });
}
