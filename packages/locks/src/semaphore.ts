import type { Attempt } from './acquire.js';
import { acquireLoop, type LoopDriver } from './acquire-loop.js';
import type { ResolvedAcquire } from './acquire-options.js';
import { driftMs, effectiveTtl, failureOutcome, type LockContext } from './context.js';
import { ConfigError, LockConflictError, QuorumUnavailableError } from './errors.js';
import { inBatches } from './heartbeat.js';
import type { HeldLock, Lock, LockHost } from './lock.js';
import type { ReleaseNotifier } from './notifier.js';
import { asArray, HOLDER_LENGTH, holderAt, toNumber } from './parse.js';
import { type Reply, round } from './round.js';
import { scripts } from './scripts.js';
import type { AcquireOptions, HolderInfo, ReleaseResult } from './types.js';
import { runHeld } from './with-lock.js';

/** What a semaphore borrows from its manager. */
export interface SemaphoreDeps {
  ctx: LockContext;
  notifier: ReleaseNotifier;
  parse(name: string, options: AcquireOptions | undefined): ResolvedAcquire;
  /** Starts an acquisition through the manager's admission (closed, `maxHeldLocks`). */
  admitted<T>(name: string, start: () => Promise<T>): Promise<T>;
  closed(): boolean;
  hold(
    host: LockHost,
    name: string,
    token: string,
    a: ResolvedAcquire,
    result: Extract<Attempt, { ok: true }>,
    attempts: number,
    started: number,
  ): HeldLock;
  forget(lock: HeldLock): void;
}

/**
 * A counting semaphore: at most `limit` permits of `name` at a time. Permits follow the lock model:
 * each is a `Lock` handle with a fence (strictly increasing per semaphore), heartbeats that move its
 * deadline (server time, a sorted-set score), and reclamation of permits whose holder stopped
 * heartbeating (audited like a stale-lock override). One master or a Cluster only (see README).
 */
export class Semaphore {
  readonly #keys: ReturnType<LockContext['keys']['semaphore']>;
  readonly #host: LockHost;
  readonly #driver: LoopDriver<HeldLock>;

  constructor(
    private readonly deps: SemaphoreDeps,
    readonly name: string,
    readonly limit: number,
  ) {
    this.#keys = deps.ctx.keys.semaphore(name);
    this.#host = {
      extendBatch: async (locks) => {
        for (const part of inBatches(locks)) await this.#extend(part);
      },
      split: inBatches,
      extendNow: async (lock) => {
        const reply = await this.#extend([lock]);
        // A permit found taken over (or lost meanwhile) rejects, as a lock's extend() does.
        if (lock.state !== 'held') throw lock.signal.reason;
        if (!reply.ok) {
          const outcome = failureOutcome(deps.ctx, 0, reply.error);
          throw new QuorumUnavailableError(name, 1, [
            { node: this.#node.label, outcome, error: reply.error },
          ]);
        }
        return lock.validUntil;
      },
      releaseRecords: (lock) => this.#release(lock.token),
      forget: (lock) => deps.forget(lock),
      expiredIsProof: false,
    };
    this.#driver = {
      notifier: deps.notifier,
      closed: () => deps.closed(),
      channel: () => this.#keys.channel,
      // Permits are never handed off inside a manager: nothing to announce, no queueing without an attempt.
      announce: false,
      heldHere: () => false,
      attempt: (_, token, a) => this.#attempt(token, a),
      granted: (_, token, a, result, attempts, started) =>
        deps.hold(this.#host, name, token, a, result, attempts, started),
    };
  }

  get #node() {
    return this.deps.ctx.nodes[0]!;
  }

  /** Key lifetime: refreshed by every acquire and heartbeat, longer than any permit can be valid. */
  get #keyLifeMs(): number {
    return this.deps.ctx.options.maxTtlMs * 2;
  }

  /** Fence counter lifetime: the key lifetime plus the record retention, as for a lock record. */
  get #fenceLifeMs(): number {
    return this.#keyLifeMs + this.deps.ctx.options.recordRetentionMs;
  }

  /** Takes one permit; rejects with `LockConflictError` (all permits held) like `LockManager.acquire`. */
  acquire(options?: AcquireOptions): Promise<Lock> {
    return this.#acquire(options);
  }

  #acquire(options: AcquireOptions | undefined): Promise<HeldLock> {
    let a: ResolvedAcquire;
    try {
      a = this.deps.parse(this.name, options);
    } catch (err) {
      // Bad input rejects, as for `LockManager.acquire` (never a synchronous throw).
      return Promise.reject(err);
    }
    return this.deps.admitted(this.name, () =>
      acquireLoop(this.deps.ctx, this.#driver, this.name, a, undefined),
    );
  }

  /** Runs `fn` holding a permit (heartbeated), always gives it back; like `LockManager.withLock`. */
  async withPermit<T>(fn: (permit: Lock) => Promise<T> | T, options?: AcquireOptions): Promise<T> {
    if (typeof fn !== 'function') throw new ConfigError('fn', 'expected a function');
    return runHeld(await this.#acquire(options), fn);
  }

  async #attempt(token: string, a: ResolvedAcquire): Promise<Attempt> {
    const ctx = this.deps.ctx;
    const o = ctx.options;
    const k = this.#keys;
    const validity = effectiveTtl(ctx, a.ttlMs);
    const startedAt = performance.now();
    const [reply] = await round(
      ctx.nodes,
      (node) =>
        node.run(
          scripts.semAcquire,
          [k.holders, k.records, k.fence, k.audit],
          [
            token,
            validity,
            this.limit,
            o.region,
            a.operation,
            a.correlationId,
            o.auditMaxLen,
            this.name,
            this.#keyLifeMs,
            this.#fenceLifeMs,
            o.auditRetentionMs,
          ],
          true,
        ),
      {
        timeoutMs: o.requestTimeoutMs,
        // A grant that lands after the round timed out (the release below went first: e.g. this call's
        // NOSCRIPT retry) is given back too, instead of blocking a slot until its deadline.
        onLate: (_i, late) => {
          // An error (a WAIT that fell short, a closed connection) may have followed a grant too; a
          // release of a permit that is not there changes nothing.
          if (!late.ok || toNumber(asArray(late.value)[0]) === 1) ctx.track(this.#release(token));
        },
      },
    );
    const label = this.#node.label;
    if (!reply?.ok) {
      ctx.track(this.#release(token)); // it may have run after all
      const outcome = failureOutcome(ctx, 0, reply?.error);
      return {
        ok: false,
        conflict: false,
        holder: undefined,
        error: () =>
          new QuorumUnavailableError(this.name, 1, [{ node: label, outcome, error: reply?.error }]),
      };
    }
    const raw = asArray(reply.value);
    if (toNumber(raw[0]) === 0) {
      const holder = holderAt(raw, 3);
      const outcome = { node: label, outcome: 'conflict' as const, ...(holder ? { holder } : {}) };
      return {
        ok: false,
        conflict: true,
        holder,
        error: () => new LockConflictError(this.name, holder, [outcome]),
      };
    }
    const overridden: { previous: HolderInfo; nodes: string[] }[] = [];
    for (let i = 4; raw[3] !== undefined && i + HOLDER_LENGTH <= raw.length; i += HOLDER_LENGTH) {
      const previous = holderAt(raw, i);
      if (previous) overridden.push({ previous, nodes: [label] });
    }
    const validUntilMono = startedAt + validity - driftMs(ctx, a.ttlMs);
    if (performance.now() >= validUntilMono) {
      // Granted too late to be valid any more (as for a lock): give it back rather than hand out a
      // permit whose deadline may already have let a contender reclaim it.
      ctx.track(this.#release(token));
      return {
        ok: false,
        conflict: false,
        holder: undefined,
        error: () => new QuorumUnavailableError(this.name, 1, [{ node: label, outcome: 'granted' }]),
      };
    }
    return { ok: true, fence: toNumber(raw[1]), startedAt, validUntilMono, overridden };
  }

  /** One heartbeat call for `permits`; settles each. Resolves with the node's reply (a failure too). */
  async #extend(permits: readonly HeldLock[]): Promise<Reply<unknown>> {
    const ctx = this.deps.ctx;
    const k = this.#keys;
    const args: (string | number)[] = [this.limit, this.#keyLifeMs, this.#fenceLifeMs];
    // The TTL each permit gets in this call, fixed now: validity is judged by what was written.
    const ttls = permits.map((p) => p.ttlMs);
    permits.forEach((p, i) => {
      args.push(p.token, effectiveTtl(ctx, ttls[i]!), p.fence, p.region, p.operation, p.correlationId);
    });
    const startedAt = performance.now();
    for (let i = 0; i < permits.length; i++) permits[i]!.bound(startedAt, ttls[i]!);
    // A permit whose record this call left behind (see `HeldLock.leftBehind`) is given back.
    const leftovers = (value: unknown) => {
      const rs = Array.isArray(value) ? value.map(toNumber) : [];
      permits.forEach((p, i) => {
        if (p.leftBehind(rs[i])) ctx.track(this.#release(p.token));
      });
    };
    const [reply] = await round(
      ctx.nodes,
      (node) => node.run(scripts.semHeartbeat, [k.holders, k.records, k.fence], args, true),
      {
        timeoutMs: ctx.options.requestTimeoutMs,
        onLate: (_i, late) => {
          if (late.ok) leftovers(late.value);
        },
      },
    );
    if (reply?.ok) leftovers(reply.value);
    const latencyMs = performance.now() - startedAt;
    const results = reply?.ok ? asArray(reply.value).map(toNumber) : [];
    permits.forEach((p, i) => {
      const ref = { resource: p.resource, token: p.token, fence: p.fence, latencyMs };
      const r = results[i];
      if (r === 1 && p.confirmed(startedAt, ttls[i]!))
        ctx.events.emit('extended', { ...ref, validUntil: p.validUntil });
      else if (r === 0) p.lose('taken-over');
      else if (r === 2 && p.state === 'held') {
        // The permit was gone (evicted, a failover to a replica without it): another holder may have had
        // its slot meanwhile. The permit written again is given back.
        p.lose('expired');
        ctx.track(this.#release(p.token));
      } else if (p.state === 'held') {
        const outcome = reply && !reply.ok ? failureOutcome(ctx, 0, reply.error) : 'error';
        ctx.events.emit('extend-failed', { ...ref, nodes: [{ node: this.#node.label, outcome }] });
      }
    });
    return reply ?? { ok: false, error: new Error('no reply') };
  }

  async #release(token: string): Promise<ReleaseResult> {
    const ctx = this.deps.ctx;
    const k = this.#keys;
    const [reply] = await round(
      ctx.nodes,
      (node) => node.run(scripts.semRelease, [k.holders, k.records], [token, k.channel, this.name], false),
      { timeoutMs: ctx.options.requestTimeoutMs },
    );
    if (!reply?.ok) return { released: false, reason: 'unreachable' };
    return toNumber(reply.value) === 1 ? { released: true } : { released: false, reason: 'expired' };
  }
}
