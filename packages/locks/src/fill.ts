import type { LockContext } from './context.js';
import { extendOnNode, inBatches, releaseLeftovers } from './heartbeat.js';
import type { HeldLock } from './lock.js';

/**
 * How long after its grant a lock waits to be written to the nodes its first wave did not ask. Locks
 * held for less are released before and cost nothing more; the rest are batched per node. (10 ms cost
 * a hand-off chain of 1 ms sections about 10% per hand-off, 100 ms about 2%.)
 */
const FILL_DELAY_MS = 100;

/**
 * Writes a lock granted by a first wave (`fanout: 'quorum'`: 3 of 5 nodes) to the nodes that wave did
 * not ask, with the heartbeat script (it re-claims only where no one else holds the record), soon after
 * the grant instead of at the first heartbeat. Until then one node of the wave that loses the record
 * (a failover to a lagging replica, an eviction, a clock step) would free a quorum for another owner;
 * with the record on every node, as Redlock writes it, that takes as many such nodes as it does there.
 * Best effort: a node that fails is written by the lock's next heartbeat. From the moment the spread is
 * sent, its nodes count as holding the record (`HeldLock.sending`), whatever they answer.
 */
export class Fill {
  /** Locks in grant order, so the ones due come first. */
  #pending: { lock: HeldLock; dueAt: number }[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly ctx: LockContext) {}

  /** Queues `lock` if its acquisition asked only some of the nodes. */
  add(lock: HeldLock): void {
    if (!lock.nodes || lock.nodes.size >= this.ctx.nodes.length) return;
    this.#pending.push({ lock, dueAt: performance.now() + FILL_DELAY_MS });
    if (!this.#timer) this.#arm(FILL_DELAY_MS);
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(() => this.#flush(), ms);
    this.#timer.unref();
  }

  #flush(): void {
    const now = performance.now();
    const due = this.#pending.findIndex((p) => p.dueAt > now);
    const ready = due === -1 ? this.#pending : this.#pending.slice(0, due);
    this.#pending = due === -1 ? [] : this.#pending.slice(due);
    this.#timer = undefined;
    if (this.#pending.length > 0) this.#arm(this.#pending[0]!.dueAt - now);
    // Not a lock released, spread by a heartbeat or `extend()` (`nodes` cleared), or past its validity.
    const locks = ready
      .map((p) => p.lock)
      .filter((l) => l.state === 'held' && l.nodes && l.validUntilMono > now);
    this.ctx.nodes.forEach((node, i) => {
      const missing = locks.filter((l) => !l.nodes!.has(i));
      for (const batch of inBatches(missing)) {
        // What is left of the TTL its wave records got: these expire with them, not a TTL later.
        const ttls = new Map(batch.map((l) => [l, Math.max(1, Math.ceil(l.acquiredAtMono + l.ttlMs - now))]));
        this.ctx.track(
          extendOnNode(this.ctx, node, i, batch, ttls).then(
            ({ results }) => releaseLeftovers(this.ctx, batch, i, results),
            () => {},
          ),
        );
      }
    });
    // From now on a release must reach every node (written after the fill on each connection).
    for (const l of locks) l.nodes = undefined;
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#pending = [];
  }
}
