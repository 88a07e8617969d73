import type { NodeConnection } from './client.js';
import { readyCountOf } from './ready-count.js';

interface Group {
  promise: Promise<[Error | null, unknown]>;
  resolve(reply: [Error | null, unknown]): void;
  reject(err: unknown): void;
}

function group(): Group {
  let resolve!: Group['resolve'];
  let reject!: Group['reject'];
  const promise = new Promise<[Error | null, unknown]>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A caller whose write failed never awaits its WAIT; a closed connection must not surface unhandled.
  promise.catch(() => {});
  return { promise, resolve, reject };
}

/**
 * One `WAIT` in flight per connection, covering every write sent on it before: `WAIT` blocks the
 * connection until it returns, so one per write would queue them behind each other (with a replica
 * gone each takes its whole timeout, and every call behind them, releases too, waits for all of them).
 * Writes sent while a `WAIT` is in flight share the next one, sent when it returns.
 */
export class SharedWait {
  #inFlight = false;
  #next: Group | undefined;
  /**
   * Connections the client has made ready. After a reconnect ioredis sends unanswered commands again,
   * a WAIT included, on the new connection, where it no longer stands for the write (a server may
   * answer it at once there).
   */
  readonly #connections: { ready: number };
  #closed = false;

  constructor(
    private readonly client: NodeConnection,
    readonly replicas: number,
    private readonly timeoutMs: number,
  ) {
    this.#connections = readyCountOf(client);
  }

  /** The connection a command written now goes out on: the current one when ready, else the next. */
  connection(): number {
    const status = this.client.status;
    const ready = this.#connections.ready;
    return status === undefined || status === 'ready' ? ready : ready + 1;
  }

  /** Whether a reply that arrives now comes from connection `mark` (see `connection()`). */
  still(mark: number): boolean {
    return !this.#closed && this.#connections.ready === mark;
  }

  /** Writes still in flight no longer count as acknowledged. */
  close(): void {
    this.#closed = true;
  }

  /**
   * The reply (error, acknowledgements) of a `WAIT` sent after every write already sent on this
   * connection: call it right after sending the write. Writes of one tick share one `WAIT`.
   */
  after(): Promise<[Error | null, unknown]> {
    if (!this.#next) {
      this.#next = group();
      if (!this.#inFlight) process.nextTick(() => this.#send());
    }
    return this.#next.promise;
  }

  #send(): void {
    const waiting = this.#next;
    if (!waiting || this.#inFlight) return;
    this.#next = undefined;
    this.#inFlight = true;
    let sent: Promise<[Error | null, unknown][] | null>;
    try {
      // A pipeline of one: the client types the manager accepts have no generic `call`.
      sent = this.client.pipeline().call('WAIT', this.replicas, this.timeoutMs).exec();
    } catch (err) {
      sent = Promise.reject(err);
    }
    sent
      .then(
        (replies) => waiting.resolve(replies?.[0] ?? [new Error('missing WAIT reply'), undefined]),
        waiting.reject,
      )
      .finally(() => {
        this.#inFlight = false;
        this.#send();
      });
  }
}
