import { failureOutcome, type LockContext } from './context.js';
import { QuorumUnavailableError } from './errors.js';
import type { HeldLock, LockHost } from './lock.js';
import type { LockNode } from './node.js';
import { asArray, toNumber } from './parse.js';
import { releaseOn } from './release.js';
import { type Reply, round } from './round.js';
import { scripts } from './scripts.js';
import type { NodeOutcome } from './types.js';

/** Most locks (or permits) extended by one script call; larger sets are split into several calls per node. */
const BATCH = 100;

/** `list` in consecutive groups of at most `BATCH`, one script call each. */
export function inBatches<T>(list: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += BATCH) out.push(list.slice(i, i + BATCH));
  return out;
}

interface Tally {
  /** Trusted nodes that found the live record and extended it. */
  votes: number;
  taken: number;
  /**
   * Trusted nodes that may have held the record (not `HeldLock.absentNodes`), found it gone (absent,
   * released, expired) and wrote it again.
   */
  reclaimed: number;
  /** Every node that wrote the record again, trusted or not. */
  reclaimedOn: Set<number>;
  outcomes: NodeOutcome[];
}

/**
 * Runs the heartbeat script for `locks` on one node (one call per node per batch of 100); each lock
 * notes the write before it goes (`HeldLock.sending`). Per lock 1 extended, 2 re-claimed, 0 another
 * owner's.
 */
export async function extendOnNode(
  ctx: LockContext,
  node: LockNode,
  index: number,
  locks: readonly HeldLock[],
  ttls: ReadonlyMap<HeldLock, number>,
) {
  for (const l of locks) l.sending(index);
  const keys = [ctx.keys.epoch(locks[0]!.resource)];
  const args: (string | number)[] = [ctx.guard.flag, ctx.options.recordRetentionMs, ctx.options.staleAfterMs];
  for (const l of locks) {
    keys.push(ctx.keys.lock(l.resource));
    args.push(l.token, ttls.get(l)!, l.fence, l.region, l.operation, l.correlationId);
  }
  const raw = asArray(await node.run(scripts.heartbeat, keys, args, true));
  const trusted = ctx.guard.observe(index, raw[0], raw[1]);
  return { trusted, results: raw.slice(2).map(toNumber) };
}

type NodeReply = Reply<Awaited<ReturnType<typeof extendOnNode>>>;

/**
 * Whether the replies so far decide lock `j` of a batch: a quorum of trusted extensions, or taken over.
 * A re-claim is not an extension: the record was gone there, so it proves nothing about the time since.
 */
function decided(ctx: LockContext, replies: readonly (NodeReply | undefined)[], j: number): boolean {
  let votes = 0;
  let taken = 0;
  for (const reply of replies) {
    if (!reply?.ok) continue;
    const r = reply.value.results[j];
    if (r === 0) taken++;
    else if (r === 1 && reply.value.trusted) votes++;
  }
  return votes >= ctx.quorum || taken > ctx.nodes.length - ctx.quorum;
}

/** Releases again, on node `index`, every lock of `batch` whose record this round's reply left behind. */
export function releaseLeftovers(
  ctx: LockContext,
  batch: readonly HeldLock[],
  index: number,
  results: number[],
) {
  batch.forEach((lock, j) => {
    if (lock.leftBehind(results[j]))
      ctx.track(releaseOn(ctx, lock.resource, lock.token, { only: new Set([index]) }));
  });
}

/** Locks in the groups one heartbeat script call extends on each node. */
export function heartbeatBatches(ctx: LockContext, locks: readonly HeldLock[]): HeldLock[][] {
  // A Cluster cannot run one script across slots, so there every lock is its own call.
  if (ctx.topology === 'cluster') return locks.map((l) => [l]);
  return inBatches(locks);
}

/**
 * Extends `locks` in one round and settles each: a quorum of trusted extensions confirms it, a
 * majority of other owners means it was taken over, records gone on enough nodes to have let another
 * owner in mean it expired, anything else is a failed extension (the lock's deadline then aborts its
 * signal before validity runs out).
 */
export async function extendLocks(
  ctx: LockContext,
  locks: readonly HeldLock[],
): Promise<Map<HeldLock, Tally>> {
  const startedAt = performance.now();
  // The TTL each lock's records get in this round, fixed now: validity is judged by what was written.
  const ttls = new Map(locks.map((l) => [l, l.ttlMs]));
  // The nodes no write of each lock's record was sent to before this round, taken before its writes
  // go: a re-claim there is a first write (a node the wave did not ask), not a lost record. A write in
  // flight (the spread, another round) already took its node out.
  const absent = new Map(locks.map((l) => [l, l.absentNodes()]));
  for (const l of locks) {
    // Every node is asked and may re-claim the record: from now on a release must reach them all.
    l.nodes = undefined;
    l.bound(startedAt, ttls.get(l)!);
  }
  const tallies = new Map<HeldLock, Tally>(
    locks.map((l) => [l, { votes: 0, taken: 0, reclaimed: 0, reclaimedOn: new Set(), outcomes: [] }]),
  );
  await Promise.all(
    heartbeatBatches(ctx, locks).map((batch) =>
      round(ctx.nodes, (node, i) => extendOnNode(ctx, node, i, batch, ttls), {
        timeoutMs: ctx.options.requestTimeoutMs,
        health: ctx.health,
        // Decided once every lock of the batch is (a quorum of trusted extensions, or taken over): a
        // paused minority node must not hold the round, and with it the next heartbeat, until the
        // timeout. Its late answer still extends there.
        settled: (rs) => batch.every((_, j) => decided(ctx, rs, j)),
        onLate: (i, late) => {
          if (late.ok) releaseLeftovers(ctx, batch, i, late.value.results);
        },
      }).then((replies) => {
        replies.forEach((reply, i) => {
          if (reply?.ok) releaseLeftovers(ctx, batch, i, reply.value.results);
          const node = ctx.nodes[i]!.label;
          batch.forEach((lock, j) => {
            const t = tallies.get(lock)!;
            if (!reply) {
              t.outcomes.push({ node, outcome: 'pending' });
              return;
            }
            if (!reply.ok) {
              t.outcomes.push({ node, outcome: failureOutcome(ctx, i, reply.error), error: reply.error });
              return;
            }
            const r = reply.value.results[j];
            if (r === 0) t.taken++;
            else if (r === 1 && reply.value.trusted) t.votes++;
            if (r === 2) {
              t.reclaimedOn.add(i);
              if (reply.value.trusted && !absent.get(lock)?.has(i)) t.reclaimed++;
            }
            const outcome =
              r === 0 ? 'conflict' : !reply.value.trusted ? 'recovering' : r === 2 ? 'reclaimed' : 'extended';
            t.outcomes.push({ node, outcome });
          });
        });
      }),
    ),
  );
  const latencyMs = performance.now() - startedAt;
  for (const [lock, t] of tallies) {
    const ref = { resource: lock.resource, token: lock.token, fence: lock.fence, latencyMs };
    if (t.votes >= ctx.quorum && lock.confirmed(startedAt, ttls.get(lock)!)) {
      ctx.events.emit('extended', { ...ref, validUntil: lock.validUntil });
    } else if (t.taken > ctx.nodes.length - ctx.quorum) {
      lock.lose('taken-over');
    } else if (lock.state === 'held' && t.reclaimed > 0 && t.votes + t.reclaimed >= ctx.quorum) {
      // The record was gone on enough nodes (evicted, a failover to a replica without it) that another
      // owner could have held a quorum meanwhile: exclusivity is no longer proven. The records written
      // again are released, keeping their high-water fences.
      lock.lose('expired');
      ctx.track(releaseOn(ctx, lock.resource, lock.token, { only: t.reclaimedOn }));
    } else if (lock.state === 'held') {
      ctx.events.emit('extend-failed', { ...ref, nodes: t.outcomes });
      ctx.options.logger?.warn(
        { resource: lock.resource, fence: lock.fence },
        'lock heartbeat missed quorum',
      );
    }
  }
  return tallies;
}

/** Holds the manager's locks and extends all heartbeating ones every `heartbeatIntervalMs`. */
export class Heartbeat {
  readonly held = new Set<HeldLock>();
  #timer: NodeJS.Timeout | undefined;
  /** Locks whose round has not settled yet: skipped by the next tick, the others still go. */
  readonly #inFlight = new Set<HeldLock>();

  constructor(private readonly ctx: LockContext) {}

  add(lock: HeldLock): void {
    this.held.add(lock);
    if (lock.heartbeat && !this.#timer) {
      this.#timer = setInterval(() => void this.tick(), this.ctx.options.heartbeatIntervalMs);
      this.#timer.unref();
    }
  }

  delete(lock: HeldLock): void {
    this.held.delete(lock);
  }

  /**
   * One heartbeat round for every held, heartbeating lock, in the batches of one script call each
   * (see `LockHost.split`): a lock whose previous round has not settled (e.g. on a stalled Cluster shard) is
   * skipped, and does not hold back the locks of the other batches.
   */
  async tick(): Promise<void> {
    // The timer stops at the first tick with nothing held, not at every release: short holds one
    // after another would otherwise create and clear an interval each.
    if (this.held.size === 0) {
      this.stop();
      return;
    }
    const now = performance.now();
    const byHost = new Map<LockHost, HeldLock[]>();
    for (const l of this.held) {
      if (!l.heartbeat || l.state !== 'held' || l.validUntilMono <= now || this.#inFlight.has(l)) continue;
      const list = byHost.get(l.host);
      if (list) list.push(l);
      else byHost.set(l.host, [l]);
    }
    const rounds: Promise<void>[] = [];
    for (const [host, locks] of byHost) {
      for (const part of host.split(locks)) {
        for (const l of part) this.#inFlight.add(l);
        rounds.push(
          host
            .extendBatch(part)
            .catch((err: unknown) => this.ctx.options.logger?.error({ err }, 'lock heartbeat round failed'))
            .finally(() => {
              for (const l of part) this.#inFlight.delete(l);
            }),
        );
      }
    }
    await Promise.all(rounds);
  }

  /** Extends one lock now (for `lock.extend()`); throws when it cannot be confirmed. */
  async extendOne(lock: HeldLock): Promise<number> {
    const t = (await extendLocks(this.ctx, [lock])).get(lock)!;
    if (lock.state !== 'held') throw lock.signal.reason;
    if (t.votes >= this.ctx.quorum) return lock.validUntil;
    throw new QuorumUnavailableError(lock.resource, this.ctx.quorum, t.outcomes);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
