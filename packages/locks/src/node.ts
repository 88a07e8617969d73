import { nodeCalls } from './calls.js';
import type { NodeConnection, PipelineLike, ScriptClient } from './client.js';
import { joinHandOffs, type QueuedCall } from './handoff-call.js';
import { ReplicaAcksError, WaitUnsupportedError } from './node-errors.js';
import { readyCountOf } from './ready-count.js';
import { isNoScript } from './redis-errors.js';
import type { LockScript } from './scripts.js';
import { SharedWait } from './shared-wait.js';
import { onConnection, sendWaited, type WaitedCluster } from './waited-write.js';

type Arg = string | number;

/** Most script calls written to one node in one write; more wait for the next flush. */
const MAX_BATCH = 256;

/** One Redis endpoint (a master, or a whole Cluster) and how scripts are called on it. */
export class LockNode {
  // Script calls issued in the same tick (e.g. many concurrent acquires) go out together: one socket
  // write and one read instead of one each. Not on a Cluster, whose pipelines must stay in a slot.
  #queue: QueuedCall[] | undefined;
  /** Set by `hold()` until its flush: every call of this tick joins one write. */
  #held = false;
  readonly #batching: boolean;
  /** Acquires and releases issued in the same tick share one script call (not on a Cluster). */
  readonly calls: ReturnType<typeof nodeCalls>;
  /** With `replicaAcks`, outside a Cluster: the connection's one `WAIT` in flight. */
  readonly #wait: SharedWait | undefined;
  #closed = false;
  /** Calls sent again as EVAL after NOSCRIPT: each runs after calls written since its first send. */
  #resends = 0;
  /** Connections the client has made ready (ioredis sends unanswered calls again after a reconnect). */
  readonly #connections: { ready: number };
  /** With `replicaAcks` on a Cluster: each master connection's one `WAIT` in flight. */
  readonly #cluster: (WaitedCluster & { waits: Map<NodeConnection, SharedWait> }) | undefined;

  constructor(
    readonly label: string,
    readonly client: ScriptClient,
    private readonly replicaAcks: number,
    replicaAckTimeoutMs: number,
    /** For how long a write with `WAIT` is sent again after Cluster redirections (a slot that moves). */
    private readonly redirectBudgetMs = 500,
  ) {
    this.#batching = client.isCluster !== true;
    this.#connections = readyCountOf(client);
    if (replicaAcks > 0 && this.#batching)
      this.#wait = new SharedWait(client, replicaAcks, replicaAckTimeoutMs);
    if (replicaAcks > 0 && !this.#batching) {
      const waits = new Map<NodeConnection, SharedWait>();
      this.#cluster = {
        client,
        waits,
        wait: [replicaAcks, replicaAckTimeoutMs],
        waitOf: (connection) => {
          const known = waits.get(connection);
          if (known) return known;
          const wait = new SharedWait(connection, replicaAcks, replicaAckTimeoutMs);
          // A write still redirected after close(): not kept, and not counted as acknowledged.
          if (this.#closed) {
            wait.close();
            return wait;
          }
          // Connections the Cluster closed (a node removed) are dropped.
          for (const [c, w] of waits) {
            if (c.status !== 'end') continue;
            w.close();
            waits.delete(c);
          }
          waits.set(connection, wait);
          return wait;
        },
      };
    }
    this.calls = nodeCalls(
      (script, keys, args, write) => this.runNow(script, keys, args, write),
      this.#batching,
    );
  }

  /** Runs `script` by SHA (loading it on NOSCRIPT), then `WAIT` when `write` and `replicaAcks > 0`. */
  run(script: LockScript, keys: string[], args: Arg[], write: boolean): Promise<unknown> {
    return write && this.replicaAcks > 0
      ? this.#runWaited(script, keys, args)
      : this.#run(script, keys, args);
  }

  /**
   * For the rest of this tick, every call to this node (`runNow` too) waits and goes out in one
   * write, in call order: a release and the attempt of the waiter it wakes cost one socket write
   * (on loopback a write costs about as much as the round trip) and one script call
   * (`joinHandOffs`). The flush is two `nextTick`s away, so when the release runs in a microtask (as
   * `release()` after an `await` does) it comes after the batches that the woken waiter's microtasks
   * queue (a `setImmediate` would cost a poll of the event loop); a call that misses it (e.g. a
   * release from a timer) goes out next, still in order on the connection.
   * Not on a Cluster or with `replicaAcks`, whose calls are written one by one.
   */
  hold(): void {
    if (this.#held || !this.#batching || this.replicaAcks > 0) return;
    this.#held = true;
    this.#queue ??= [];
    process.nextTick(() =>
      process.nextTick(() => {
        this.#held = false;
        this.#flush();
      }),
    );
  }

  /** As `run`, but written at once instead of joining the write of this tick (a full batch). */
  runNow(script: LockScript, keys: string[], args: Arg[], write: boolean): Promise<unknown> {
    if (this.#held) return this.#run(script, keys, args);
    return write && this.replicaAcks > 0
      ? this.#runWaited(script, keys, args)
      : this.#direct(script, keys, args);
  }

  #run(script: LockScript, keys: string[], args: Arg[]): Promise<unknown> {
    if (!this.#batching) return this.#direct(script, keys, args);
    return new Promise((resolve, reject) => {
      if (!this.#queue) {
        this.#queue = [];
        process.nextTick(() => this.#flush());
      }
      this.#queue.push({ script, keys, args, resolve, reject });
      if (this.#queue.length >= MAX_BATCH) this.#flush(true);
    });
  }

  #flush(full = false): void {
    if (this.#held && !full) return;
    const queued = this.#queue;
    this.#queue = undefined;
    if (!queued || queued.length === 0) return;
    const queue = joinHandOffs(queued);
    const stream = this.client.stream;
    if (queue.length === 1 || (stream?.cork && stream.uncork)) {
      // Corked, the calls leave in one write as a pipeline would, without a Pipeline object and the
      // reply array it builds (about 10 µs of CPU per batch, measured).
      stream?.cork?.();
      try {
        for (const c of queue) this.#direct(c.script, c.keys, c.args).then(c.resolve, c.reject);
      } finally {
        stream?.uncork?.();
      }
      return;
    }
    let sent: ReturnType<PipelineLike['exec']>;
    try {
      const p = this.client.pipeline();
      for (const c of queue) p.evalsha(c.script.sha, c.keys.length, ...c.keys, ...c.args);
      sent = p.exec();
    } catch (err) {
      // This runs in a nextTick callback: a synchronous throw must reach the callers, not the process.
      for (const c of queue) c.reject(err);
      return;
    }
    sent.then(
      (replies) => {
        queue.forEach((c, i) => {
          const [err, value] = replies?.[i] ?? [new Error('empty pipeline reply'), undefined];
          if (!err) c.resolve(value);
          else if (isNoScript(err)) {
            this.#resends++;
            this.client.eval(c.script.source, c.keys.length, ...c.keys, ...c.args).then(c.resolve, c.reject);
          } else c.reject(err);
        });
      },
      (err: unknown) => {
        for (const c of queue) c.reject(err);
      },
    );
  }

  #direct(script: LockScript, keys: string[], args: Arg[]): Promise<unknown> {
    let sent: Promise<unknown>;
    try {
      sent = this.client.evalsha(script.sha, keys.length, ...keys, ...args);
    } catch (err) {
      return Promise.reject(err);
    }
    // No async wrapper: the reply reaches the caller without an extra promise hop.
    return sent.catch((err: unknown) => {
      if (!isNoScript(err)) throw err;
      this.#resends++;
      return this.client.eval(script.source, keys.length, ...keys, ...args);
    });
  }

  // The write, then its connection's shared WAIT (sent after it, so it covers it): on one master its
  // connection, on a Cluster the connection of the write's slot owner (see `sendWaited`).
  async #runWaited(script: LockScript, keys: string[], args: Arg[]): Promise<unknown> {
    const [[scriptErr, reply], waited] = this.#wait
      ? await onConnection(this.client, this.#wait, false, script, keys, args)
      : await sendWaited(this.#cluster!, script, keys, args, this.redirectBudgetMs);
    if (scriptErr) throw scriptErr;
    const [waitErr, acked] = waited ?? [new Error('missing WAIT reply'), undefined];
    // Only the server's own refusal says WAIT is unsupported; a closed connection is just a failed call.
    if (waitErr && waitErr.name !== 'ReplyError') throw waitErr;
    if (waitErr) throw new WaitUnsupportedError(`WAIT failed: ${waitErr.message}`, { cause: waitErr });
    if (Number(acked) < this.replicaAcks) throw new ReplicaAcksError(Number(acked), this.replicaAcks);
    return reply;
  }

  /** A mark to give `inOrderSince` later (both counts only grow, so their sum changes with either). */
  resendMark(): number {
    return this.#resends + this.#connections.ready;
  }

  /**
   * Whether every call written to this node since `mark` (see `resendMark`) has run in the order it
   * was written: none was sent again (after NOSCRIPT, or by ioredis after a reconnect), and no
   * `replicaAcks` write, Cluster redirection or auto-pipelining (which holds a lone call back a tick)
   * is involved.
   */
  inOrderSince(mark: number): boolean {
    return (
      this.resendMark() === mark &&
      this.replicaAcks === 0 &&
      this.#batching &&
      this.client.options?.enableAutoPipelining !== true
    );
  }

  /** Stops listening to the client (it belongs to the caller and outlives the manager). */
  close(): void {
    this.#closed = true;
    this.#wait?.close();
    for (const wait of this.#cluster?.waits.values() ?? []) wait.close();
  }
}
