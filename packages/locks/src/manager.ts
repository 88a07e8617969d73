import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { attemptAcquire } from './acquire.js';
import { AmnesiaGuard } from './amnesia.js';
import { labelOf, type Topology, topologyOf } from './client.js';
import type { LockContext } from './context.js';
import { AcquireTimeoutError, LockError, LockLimitError, LockLostError } from './errors.js';
import { Emitter, type LockEvents, type Unsubscribe } from './events.js';
import { Heartbeat } from './heartbeat.js';
import { inspectResource } from './inspect.js';
import { Keys } from './keys.js';
import { HeldLock, type Lock } from './lock.js';
import { LockNode } from './node.js';
import { ReleaseNotifier, type Watch } from './notifier.js';
import {
  type LockManagerOptions,
  parseAcquire,
  parseManagerOptions,
  type ResolvedOptions,
} from './options.js';
import type { AcquireOptions, Inspection } from './types.js';

/**
 * Distributed locks over one Redis master, a Redis Cluster, or N independent masters with a majority
 * quorum; with heartbeat staleness, audited stale-holder override, fencing and an amnesia guard.
 */
export class LockManager {
  readonly topology: Topology;
  readonly quorum: number;
  readonly #o: ResolvedOptions;
  readonly #ctx: LockContext;
  readonly #events: Emitter<LockEvents>;
  readonly #heartbeat: Heartbeat;
  readonly #notifier: ReleaseNotifier;
  readonly #background = new Set<Promise<unknown>>();
  #closed = false;

  constructor(options: LockManagerOptions) {
    const o = parseManagerOptions(options);
    this.#o = o;
    const { topology, clients } = topologyOf(o.nodes);
    this.topology = topology;
    this.quorum = o.quorum ?? Math.floor(clients.length / 2) + 1;
    const nodes = clients.map((c, i) => new LockNode(labelOf(c, i), c, o.replicaAcks, o.replicaAckTimeoutMs));
    this.#events = new Emitter<LockEvents>((err) => o.logger?.error({ err }, 'lock event listener threw'));
    const keys = new Keys(o.prefix, topology === 'cluster');
    // The guard only makes sense where a quorum can outvote one forgetful node.
    const guardOn = o.amnesiaGuard && topology === 'quorum';
    const window = o.maxTtlMs + Math.round(o.maxTtlMs * o.driftFactor) + 2;
    const guard = new AmnesiaGuard(
      guardOn,
      window,
      nodes.map((n) => n.label),
      (e) => {
        this.#events.emit('node-recovering', e);
        o.logger?.warn({ ...e }, 'lock node restarted without data; its votes wait for the guard window');
      },
    );
    this.#ctx = {
      nodes,
      quorum: this.quorum,
      topology,
      keys,
      guard,
      options: o,
      events: this.#events,
      waitUnsupported: new Set(),
      track: (work) => {
        const p = work.catch(() => {}).finally(() => this.#background.delete(p));
        this.#background.add(p);
      },
    };
    this.#heartbeat = new Heartbeat(this.#ctx);
    this.#notifier = new ReleaseNotifier(clients, keys, o.maxWaiters, o.requestTimeoutMs, o.logger);
  }

  /** Subscribes to a typed event; the returned function (also `Disposable`) unsubscribes. */
  on<K extends keyof LockEvents>(event: K, listener: (payload: LockEvents[K]) => void): Unsubscribe {
    return this.#events.on(event, listener);
  }

  /**
   * Acquires `resource`. Rejects with `LockConflictError` (409) or `QuorumUnavailableError` (503) after
   * one attempt, or with `AcquireTimeoutError` when `waitMs` runs out; bad input rejects with
   * `ConfigError` before any Redis call.
   */
  async acquire(resource: string, options?: AcquireOptions): Promise<Lock> {
    const a = parseAcquire(resource, options, this.#o);
    if (this.#closed) throw new LockError('LOCK_MANAGER_CLOSED', 'LockManager is closed', { resource });
    if (this.#heartbeat.held.size >= this.#o.maxHeldLocks)
      throw new LockLimitError('maxHeldLocks', this.#o.maxHeldLocks);
    a.signal?.throwIfAborted();
    const started = performance.now();
    const deadline = started + a.waitMs;
    let watch: Watch | undefined;
    let subscribed = false;
    try {
      for (let attempt = 1; ; attempt++) {
        // A fresh token per attempt: a late cleanup of a failed attempt can never delete a later grant.
        const token = randomUUID();
        const result = await attemptAcquire(this.#ctx, resource, token, a);
        if (result.ok) return this.#granted(resource, token, a, result, attempt, started);
        if (this.#events.has('contended'))
          this.#events.emit('contended', {
            resource,
            holder: result.conflict && 'holder' in result.error ? result.error.holder : undefined,
            latencyMs: performance.now() - started,
            attempt,
          });
        if (a.waitMs === 0) throw result.error;
        const left = deadline - performance.now();
        if (left <= 0 || attempt > this.#o.retry.retries || this.#closed) {
          throw new AcquireTimeoutError(resource, a.waitMs, attempt, result.error);
        }
        watch ??= this.#notifier.watch(resource);
        if (!subscribed) {
          // Subscribe first, then try again at once: a release published before the subscription is not missed.
          await watch.ready;
          subscribed = true;
          continue;
        }
        await watch.wait(Math.min(left, this.#delay(attempt)), a.signal);
      }
    } finally {
      watch?.[Symbol.dispose]();
    }
  }

  #delay(attempt: number): number {
    const { minDelayMs, maxDelayMs } = this.#o.retry;
    const base = Math.min(maxDelayMs, minDelayMs * 2 ** Math.min(attempt - 1, 16));
    return base / 2 + Math.random() * (base / 2);
  }

  #granted(
    resource: string,
    token: string,
    a: ReturnType<typeof parseAcquire>,
    result: Extract<Awaited<ReturnType<typeof attemptAcquire>>, { ok: true }>,
    attempts: number,
    started: number,
  ): Lock {
    const lock = new HeldLock(
      this.#ctx,
      { extendNow: (l) => this.#heartbeat.extendOne(l), forget: (l) => this.#heartbeat.delete(l) },
      {
        resource,
        token,
        fence: result.fence,
        ...a,
        startedAt: result.startedAt,
        validUntilMono: result.validUntilMono,
      },
    );
    this.#heartbeat.add(lock);
    const ref = { resource, token, fence: result.fence, region: this.#o.region };
    for (const { previous, nodes } of result.overridden) {
      this.#events.emit('stale', { resource, holder: previous, nodes });
      this.#events.emit('override', { ...ref, previous, nodes });
      this.#o.logger?.warn({ ...ref, previous, nodes }, 'stale lock overridden');
    }
    const latencyMs = performance.now() - started;
    if (this.#events.has('acquired'))
      this.#events.emit('acquired', {
        ...ref,
        latencyMs,
        attempts,
        overridden: result.overridden.length > 0,
      });
    return lock;
  }

  /**
   * Runs `fn` under the lock: heartbeats while it runs, aborts `lock.signal` when validity can no longer
   * be proven, always releases. Rejects with `LockLostError` if the lock was lost before `fn` finished.
   */
  async withLock<T>(
    resource: string,
    fn: (lock: Lock) => Promise<T> | T,
    options?: AcquireOptions,
  ): Promise<T> {
    const lock = await this.acquire(resource, options);
    let outcome: { ok: true; value: T } | { ok: false; error: unknown };
    try {
      outcome = { ok: true, value: await fn(lock) };
    } catch (error) {
      outcome = { ok: false, error };
    }
    const lost = lock.signal.aborted ? lock.signal.reason : undefined;
    await lock.release();
    if (lost instanceof LockLostError && lost.reason !== 'released') throw lost;
    if (!outcome.ok) throw outcome.error;
    return outcome.value;
  }

  /** The holder of `resource` as each node sees it, plus the holder a quorum of trusted nodes agree on. */
  inspect(resource: string): Promise<Inspection> {
    parseAcquire(resource, { heartbeat: false }, this.#o);
    return inspectResource(this.#ctx, resource);
  }

  /** Stops heartbeats, releases held locks (their signals abort with reason `closed`), closes subscribers. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#heartbeat.stop();
    const held = [...this.#heartbeat.held];
    for (const lock of held) lock.lose('closed');
    await Promise.all(held.map((lock) => lock.release()));
    this.#notifier.close();
    await Promise.race([
      Promise.all(this.#background),
      sleep(this.#o.requestTimeoutMs * 2, undefined, { ref: false }),
    ]);
  }
}
