import type { LockScript } from './scripts.js';

type Arg = string | number;

/**
 * One caller's part of a variadic script call: `head` (the same for every item that can share a call,
 * taken from the first) starts the KEYS and ARGV lists, then each item appends its own keys and args.
 */
export interface BatchItem {
  head: { keys: readonly string[]; args: readonly Arg[] };
  keys: readonly string[];
  args: readonly Arg[];
}

/** How one kind of call (acquire, release) is run and how its reply splits into per-item results. */
export interface BatchKind<R> {
  readonly script: LockScript;
  /** Whether the call writes (it then waits for `replicaAcks`). */
  readonly write: boolean;
  /** One result per item, in order (an `Error` fails that item alone); throws on a malformed reply. */
  split(reply: unknown, count: number): (R | Error)[];
}

/** Runs one script call at once (the node's `runNow`). */
export type RunScript = (script: LockScript, keys: string[], args: Arg[], write: boolean) => Promise<unknown>;

interface Pending<R> {
  item: BatchItem;
  resolve: (value: R) => void;
  reject: (error: unknown) => void;
}

/**
 * Most items in one script call. A full batch is written at once, so under many concurrent calls the
 * node already runs the first batch while the client still issues (and later still handles the replies
 * of) the rest: client and server work overlap instead of taking turns on one large call.
 */
const MAX_ITEMS = 16;

/**
 * Coalesces the calls of one kind that are issued in the same tick to one node into one script call
 * (one command to parse, one TIME, one reply), and hands each caller its own result. A failed call
 * (node down, timeout, bad reply) fails every caller in it, as separate calls would have failed.
 */
export class Batcher<R> {
  #queue: Pending<R>[] | undefined;

  constructor(
    private readonly kind: BatchKind<R>,
    private readonly run: RunScript,
    /** Off on a Cluster: one call may only touch one slot, so there every item is its own call. */
    private readonly enabled: boolean,
  ) {}

  /** Queues `item` for this tick's call; `now` writes the queue at once (a hand-off orders its release first). */
  call(item: BatchItem, now = false): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const pending = { item, resolve, reject };
      if (!this.enabled) {
        this.#send([pending]);
        return;
      }
      if (!this.#queue) {
        this.#queue = [];
        process.nextTick(() => this.#flush());
      }
      this.#queue.push(pending);
      if (now || this.#queue.length >= MAX_ITEMS) this.#flush();
    });
  }

  #flush(): void {
    const queue = this.#queue;
    this.#queue = undefined;
    if (queue && queue.length > 0) this.#send(queue);
  }

  #send(queue: Pending<R>[]): void {
    const fail = (err: unknown) => {
      for (const p of queue) p.reject(err);
    };
    let sent: Promise<unknown>;
    try {
      const first = queue[0]!.item;
      const { head } = first;
      // A lone call (the common case at low concurrency) builds its lists in one step each.
      const keys = head.keys.concat(first.keys);
      const args = head.args.concat(first.args);
      for (let i = 1; i < queue.length; i++) {
        const { item } = queue[i]!;
        for (const k of item.keys) keys.push(k);
        for (const a of item.args) args.push(a);
      }
      sent = this.run(this.kind.script, keys, args, this.kind.write);
    } catch (err) {
      // This may run in a nextTick callback: a synchronous throw must reach the callers.
      fail(err);
      return;
    }
    sent.then((reply) => {
      let results: (R | Error)[];
      try {
        results = this.kind.split(reply, queue.length);
      } catch (err) {
        fail(err);
        return;
      }
      for (let i = 0; i < queue.length; i++) {
        const r = results[i]!;
        if (r instanceof Error) queue[i]!.reject(r);
        else queue[i]!.resolve(r);
      }
    }, fail);
  }
}
