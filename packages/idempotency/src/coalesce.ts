import { isUnavailable } from './db.js';

interface Pending<I, R> {
  item: I;
  resolve: (value: R) => void;
  reject: (error: unknown) => void;
}

/**
 * Sends the calls made in one turn of the event loop (up to `max`) as one statement: `many` answers
 * them all in one round trip and one commit; a lone call runs `one`, the single-row statement, as it
 * would without coalescing. While statements of this kind are on their way, the flush waits for
 * `setImmediate`, so replies that arrive together (from several pool connections, in one poll phase)
 * start one statement between them: batches grow with the load. With none on its way it waits only
 * for the current microtasks (calls started together, e.g. by one Promise.all, still share one), so a
 * call made alone goes out without waiting for the event loop.
 */
export class Coalescer<I, R> {
  #queue: Pending<I, R>[] | undefined;
  /** Statements sent and not yet answered. */
  #inFlight = 0;

  constructor(
    /** Most calls in one statement; 1 sends every call on its own. */
    private readonly max: number,
    private readonly one: (item: I) => Promise<R>,
    /** One result per item, in order. */
    private readonly many: (items: I[]) => Promise<R[]>,
    /** Told when a shared statement failed and its calls are sent one by one. */
    private readonly onFallback?: (error: unknown, calls: number) => void,
  ) {}

  call(item: I): Promise<R> {
    if (this.max <= 1) return this.one(item);
    return new Promise<R>((resolve, reject) => {
      let queue = this.#queue;
      if (!queue) {
        const own: Pending<I, R>[] = [];
        queue = this.#queue = own;
        // Only this queue's own flush: a full queue is sent at once, and the next one waits for its turn.
        const flush = () => {
          if (this.#queue === own) this.#flush();
        };
        if (this.#inFlight === 0) queueMicrotask(flush);
        else setImmediate(flush);
      }
      queue.push({ item, resolve, reject });
      if (queue.length >= this.max) this.#flush();
    });
  }

  #flush(): void {
    const queue = this.#queue;
    this.#queue = undefined;
    if (!queue || queue.length === 0) return;
    if (queue.length === 1) {
      const p = queue[0]!;
      this.#run(() => this.one(p.item)).then(p.resolve, p.reject);
      return;
    }
    this.#run(() => this.many(queue.map((p) => p.item))).then(
      (results) => {
        for (let i = 0; i < queue.length; i++) queue[i]!.resolve(results[i]!);
      },
      (err: unknown) => {
        // Unreachable server: every call retries (or fails) as it would have alone. Any other failure
        // of the shared statement: each call runs alone, so it meets only its own error, if any.
        if (isUnavailable(err)) {
          for (const p of queue) p.reject(err);
          return;
        }
        this.onFallback?.(err, queue.length);
        for (const p of queue) this.#run(() => this.one(p.item)).then(p.resolve, p.reject);
      },
    );
  }

  /** A db whose query() throws instead of rejecting still fails only the promise. */
  #run<T>(fn: () => Promise<T>): Promise<T> {
    let sent: Promise<T>;
    try {
      sent = fn();
    } catch (err) {
      return Promise.reject(err);
    }
    this.#inFlight++;
    const settled = () => {
      this.#inFlight--;
    };
    sent.then(settled, settled);
    return sent;
  }
}
