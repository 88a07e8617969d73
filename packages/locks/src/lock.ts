import { leavesValidity, shortForHeartbeat } from './acquire-options.js';
import { driftMs, effectiveTtl, type LockContext } from './context.js';
import { ConfigError, LockLostError, type LostReason } from './errors.js';
import type { ReleaseResult } from './types.js';
import { signalMarginOf } from './validity.js';

/** One acquisition of one resource. Dispose it (`await using`) or call `release()`. */
export interface Lock extends AsyncDisposable {
  readonly resource: string;
  readonly token: string;
  /** Strictly increasing per resource across every acquisition and override: pass it to the store you write. */
  readonly fence: number;
  readonly region: string;
  readonly operation: string;
  readonly correlationId: string;
  /** Local time (ms since epoch) until which the lock is proven valid; moves on each heartbeat. */
  readonly validUntil: number;
  /** Aborts (with `LockLostError`) before validity runs out without a heartbeat, on takeover, max hold or release. */
  readonly signal: AbortSignal;
  /** Extends now (optionally with a new TTL); resolves to the new `validUntil`. */
  extend(ttlMs?: number): Promise<number>;
  /** Never throws: `{ released: false, reason }` for an expired, taken-over or unreachable lock. */
  release(): Promise<ReleaseResult>;
}

export interface LockInit {
  resource: string;
  token: string;
  fence: number;
  operation: string;
  correlationId: string;
  ttlMs: number;
  heartbeat: boolean;
  maxHoldMs: number;
  startedAt: number;
  validUntilMono: number;
  /** Nodes the acquisition asked (quorum mode, first wave); undefined: every node. */
  nodes?: ReadonlySet<number>;
  /** Nodes the acquisition did not ask (see `HeldLock.absentNodes`). */
  absent?: readonly number[];
}

/**
 * What a kind of lock (a mutex record, a semaphore permit) provides: extending a batch of held locks in
 * one call per node, removing its records, and forgetting a settled lock. The heartbeat groups by host.
 */
export interface LockHost {
  extendBatch(locks: readonly HeldLock[]): Promise<void>;
  /** `locks` in the groups `extendBatch` extends with one call per node (the heartbeat's unit of work). */
  split(locks: readonly HeldLock[]): readonly HeldLock[][];
  extendNow(lock: HeldLock): Promise<number>;
  releaseRecords(lock: HeldLock): Promise<ReleaseResult>;
  forget(lock: HeldLock): void;
  /**
   * Whether a release's `expired` proves the records expired while held: not where a release repeated
   * after a lost reply reads its own earlier run as gone (a quorum, a semaphore permit).
   */
  readonly expiredIsProof: boolean;
}

/** The manager-side state of a held lock; exposed to users through the `Lock` interface only. */
export class HeldLock implements Lock {
  readonly resource: string;
  readonly token: string;
  readonly region: string;
  readonly operation: string;
  readonly correlationId: string;
  readonly heartbeat: boolean;
  readonly acquiredAtMono: number;
  ttlMs: number;
  fence: number;
  state: 'held' | LostReason = 'held';
  /**
   * The nodes that may hold this lock's record: those its acquisition asked, until an extension round
   * (which goes to every node and re-claims where the record is missing) makes it every node.
   */
  nodes: ReadonlySet<number> | undefined;
  #validUntilMono: number;
  #lastRound: number;
  // Created on first read of `signal`: most short critical sections never look at it.
  #controller: AbortController | undefined;
  #reason: unknown;
  #timer: NodeJS.Timeout | undefined;
  /** When the timer fires (monotonic ms): the signal's margin before validity ends, or the max hold time. */
  #dueAt = Number.POSITIVE_INFINITY;
  /** The release that dropping the lock at its max hold time started. */
  #releasing: Promise<ReleaseResult> | undefined;
  readonly #maxHoldAt: number;
  /**
   * The nodes no write of this lock's record was ever sent to (its wave did not ask them, and neither
   * the spread nor a heartbeat has yet), undefined when none: a re-claim on one of them is a first
   * write, anywhere else a record gone was lost there. Only sending counts: a reply that says nothing
   * was written can be that of a call ioredis sent again after a reconnect, whose first run wrote.
   */
  #absent: Set<number> | undefined;

  constructor(
    private readonly ctx: LockContext,
    readonly host: LockHost,
    init: LockInit,
  ) {
    this.resource = init.resource;
    this.token = init.token;
    this.fence = init.fence;
    this.region = ctx.options.region;
    this.operation = init.operation;
    this.correlationId = init.correlationId;
    this.ttlMs = init.ttlMs;
    this.heartbeat = init.heartbeat;
    this.acquiredAtMono = init.startedAt;
    this.#lastRound = init.startedAt;
    this.#validUntilMono = init.validUntilMono;
    this.nodes = init.nodes;
    if (init.absent && init.absent.length > 0) this.#absent = new Set(init.absent);
    this.#maxHoldAt = init.startedAt + init.maxHoldMs;
    this.#arm();
  }

  get validUntil(): number {
    return Date.now() + Math.max(0, this.#validUntilMono - performance.now());
  }

  get validUntilMono(): number {
    return this.#validUntilMono;
  }

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.state !== 'held') this.#controller.abort(this.#lostReason());
    }
    return this.#controller.signal;
  }

  /** The `LockLostError` of a lost lock, undefined while held; unlike `signal`, builds nothing while held. */
  get lost(): unknown {
    // A busy event loop delays the expiry timer: a lock whose timer is overdue counts as lost now.
    if (this.state === 'held' && performance.now() >= this.#dueAt) this.#due();
    return this.state === 'held' ? undefined : this.#lostReason();
  }

  /**
   * Records a round that a quorum confirmed; only rounds started while the lock was still valid count.
   * `ttlMs` is the TTL that round wrote: `extend(ttlMs)` may change the lock's TTL while an earlier
   * round is in flight, and that round's records expire by the TTL it carried.
   */
  confirmed(startedAt: number, ttlMs: number): boolean {
    if (this.state !== 'held' || startedAt >= this.#validUntilMono) return false;
    if (startedAt > this.#lastRound) {
      this.#lastRound = startedAt;
      this.#validUntilMono = startedAt + effectiveTtl(this.ctx, ttlMs) - driftMs(this.ctx, ttlMs);
      this.#arm();
    }
    return true;
  }

  /**
   * Called as a round that writes `ttlMs` starts: when that TTL ends the records before the current
   * validity would, validity drops now, whatever the round's outcome (a round that fails or times out
   * may still have written the shorter TTL).
   */
  bound(startedAt: number, ttlMs: number): void {
    if (this.state !== 'held') return;
    const until = startedAt + effectiveTtl(this.ctx, ttlMs) - driftMs(this.ctx, ttlMs);
    if (until >= this.#validUntilMono) return;
    this.#validUntilMono = until;
    // A round that started earlier (with the longer TTL) may confirm later: its records may be
    // overwritten by this round's, so it must not raise validity again.
    this.#lastRound = Math.max(this.#lastRound, startedAt);
    this.#arm();
  }

  /**
   * Whether a heartbeat's write on a node (`result` 1: extended, 2: re-claimed) left a record that
   * nothing keeps or releases: the lock ended while the call was in flight. A re-claim can land after
   * the release (a call retried after NOSCRIPT runs behind calls written later); an extension of a lock
   * that expired here keeps its record alive with nobody to heartbeat it.
   */
  leftBehind(result: number | undefined): boolean {
    return result === 2 ? this.state !== 'held' : result === 1 && this.state === 'expired';
  }

  /**
   * A write of this lock's record (a heartbeat, the spread) is about to go to node `index`: from now on
   * the node counts as holding it, whatever becomes of the write, so that losing the record there is
   * not missed.
   */
  sending(index: number): void {
    if (!this.#absent?.delete(index)) return;
    if (this.#absent.size === 0) this.#absent = undefined;
  }

  /** A copy of the nodes no write of the record was sent to; undefined: none. */
  absentNodes(): ReadonlySet<number> | undefined {
    return this.#absent && new Set(this.#absent);
  }

  /** Drops a lock that was granted but never handed out (the manager closed): no timer, no events. */
  discard(): void {
    this.state = 'closed';
    clearTimeout(this.#timer);
  }

  // One timer per lock: the signal aborts a little before validity ends (so the holder can stop before
  // anyone else may enter), or at the max hold time, whichever comes first.
  #arm(): void {
    clearTimeout(this.#timer);
    this.#dueAt = Math.min(
      this.#validUntilMono - signalMarginOf(this.ctx.options, this.ttlMs),
      this.#maxHoldAt,
    );
    this.#timer = setTimeout(() => this.#due(), Math.max(0, this.#dueAt - performance.now()));
    this.#timer.unref();
  }

  #due(): void {
    if (this.#dueAt === this.#maxHoldAt) this.#expire('max-hold');
    else this.lose('expired');
  }

  #expire(reason: LostReason): void {
    if (this.state !== 'held') return;
    this.lose(reason);
    this.#releasing = this.host.releaseRecords(this);
    this.ctx.track(this.#releasing);
  }

  #lostReason(): unknown {
    if (this.#reason === undefined) {
      const reason = this.state === 'held' ? 'released' : this.state;
      this.#reason = new LockLostError(this.resource, this.fence, reason);
    }
    return this.#reason;
  }

  /** Marks the lock lost and aborts its signal; later heartbeats skip it. */
  lose(reason: LostReason, cause?: unknown): void {
    if (this.state !== 'held') return;
    this.state = reason;
    clearTimeout(this.#timer);
    this.host.forget(this);
    if (cause !== undefined) this.#reason = new LockLostError(this.resource, this.fence, reason, cause);
    this.#controller?.abort(this.#lostReason());
    if (reason !== 'released') {
      this.ctx.events.emit('lost', { resource: this.resource, token: this.token, fence: this.fence, reason });
      this.ctx.options.logger?.warn({ resource: this.resource, fence: this.fence, reason }, 'lock lost');
    }
  }

  async extend(ttlMs?: number): Promise<number> {
    if (ttlMs !== undefined) {
      if (!Number.isInteger(ttlMs) || ttlMs <= 0)
        throw new ConfigError('ttlMs', 'must be a positive integer');
      if (ttlMs > this.ctx.options.maxTtlMs) {
        throw new ConfigError('ttlMs', `must be <= maxTtlMs (${this.ctx.options.maxTtlMs})`);
      }
      // As at acquire: a shorter TTL would lose the lock before the next heartbeat lands.
      if (this.heartbeat && ttlMs < this.ctx.options.minHeartbeatTtlMs)
        throw shortForHeartbeat(this.ctx.options);
      leavesValidity(this.ctx.options, ttlMs);
    }
    if (this.state !== 'held') throw new LockLostError(this.resource, this.fence, this.state);
    if (ttlMs !== undefined) this.ttlMs = ttlMs;
    return this.host.extendNow(this);
  }

  async release(): Promise<ReleaseResult> {
    if (this.state === 'released') return { released: false, reason: 'already-released' };
    const wasLost = this.state;
    const started = performance.now();
    if (this.state === 'held') this.lose('released');
    else {
      // The signal, if read only later, still tells why the lock ended (e.g. expired), not 'released'.
      this.#lostReason();
      this.state = 'released';
    }
    // A lock dropped at its max hold time was released then: that call's answer, not a second call.
    const result = await (this.#releasing ?? this.host.releaseRecords(this));
    // A lock that was already lost is reported as such even if its records were still there to delete.
    const final: ReleaseResult =
      wasLost === 'taken-over'
        ? { released: false, reason: 'taken-over' }
        : wasLost === 'expired' || wasLost === 'max-hold'
          ? { released: false, reason: 'expired' }
          : result;
    if (this.ctx.events.has('released'))
      this.ctx.events.emit('released', {
        resource: this.resource,
        token: this.token,
        fence: this.fence,
        ...final,
        heldMs: started - this.acquiredAtMono,
        latencyMs: performance.now() - started,
      });
    return final;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.release().then(() => undefined);
  }
}
