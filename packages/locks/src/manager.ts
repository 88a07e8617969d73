import { setTimeout as sleep } from 'node:timers/promises';
import { createTracing, Emitter } from '@cxkit/internal';
import { type Attempt, attemptAcquire } from './acquire.js';
import { acquireLoop, type LoopDriver } from './acquire-loop.js';
import { checkName, knownKeys, parseAcquire, type ResolvedAcquire } from './acquire-options.js';
import type { Topology } from './client.js';
import { createContext, type LockContext } from './context.js';
import { campaign, type Election, type ElectOptions } from './elect.js';
import { ConfigError, LockLimitError, managerClosed } from './errors.js';
import { DIAGNOSTICS_CHANNEL_PREFIX, EVENT_NAMES, type LockEvents, type Unsubscribe } from './events.js';
import { checkEvictionPolicies } from './eviction.js';
import { Fill } from './fill.js';
import { extendLocks, Heartbeat, heartbeatBatches } from './heartbeat.js';
import { inspectResource } from './inspect.js';
import { HeldLock, type Lock, type LockHost } from './lock.js';
import { ReleaseNotifier } from './notifier.js';
import { type LockManagerOptions, parseManagerOptions, type ResolvedOptions } from './options.js';
import { releaseOn, releaseResult } from './release.js';
import { Semaphore } from './semaphore.js';
import type { AcquireOptions, Inspection } from './types.js';
import { runHeld } from './with-lock.js';

/** Options `elect()` and `semaphore()` accept: any other key is a mistake, not ignored. */
const ELECT_KEYS: ReadonlySet<string> = new Set([
  'onElected',
  'onDemoted',
  'signal',
  'ttlMs',
  'operation',
  'correlationId',
]);
const SEMAPHORE_KEYS: ReadonlySet<string> = new Set(['limit']);
const tracing = createTracing('@cxkit/locks');

/** A release that wakes waiters (a contended one publishes). */
const WAKE = { wake: true } as const;
/** A release handed to a waiter of this manager: written at once, and silent. */
const HAND_OFF = { handOff: true } as const;

/** What `acquire` records on its span (the part of an OpenTelemetry span it uses). */
interface SpanLike {
  setAttributes(attributes: Record<string, number>): unknown;
}

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
  readonly #fill: Fill;
  #closing: Promise<void> | undefined;
  /** Campaigns still running: close() waits for their demotion (`onDemoted`) too. */
  readonly #elections = new Set<Election>();
  readonly #host: LockHost;
  readonly #notifier: ReleaseNotifier;
  readonly #driver: LoopDriver<HeldLock, SpanLike | undefined>;
  readonly #background = new Set<Promise<unknown>>();
  #closed = false;
  /** Acquisitions in flight: they count against `maxHeldLocks` until they settle. */
  #acquiring = 0;
  /** Resolves close()'s wait once no acquisition is in flight. */
  #idle: (() => void) | undefined;
  readonly #settled = (): void => {
    if (--this.#acquiring === 0) this.#idle?.();
  };
  /** Releases of grants given back after their caller's signal aborted (see `#granted`): a stopped election waits for its own. */
  readonly #givingBack = new WeakMap<AbortSignal, Promise<void>>();
  /** The live lock of each resource this manager holds (not semaphore permits): see `heldHere`. */
  readonly #mine = new Map<string, HeldLock>();

  constructor(options: LockManagerOptions) {
    const o = parseManagerOptions(options);
    this.#o = o;
    void tracing.load();
    this.#events = new Emitter<LockEvents>({
      onListenerError: (err) => o.logger?.error({ err }, 'lock event listener threw'),
      diagnosticsPrefix: DIAGNOSTICS_CHANNEL_PREFIX,
    });
    const { ctx, clients } = createContext(o, this.#events, (work) => {
      const p = work.catch(() => {}).finally(() => this.#background.delete(p));
      this.#background.add(p);
    });
    this.#ctx = ctx;
    this.topology = ctx.topology;
    this.quorum = ctx.quorum;
    this.#heartbeat = new Heartbeat(this.#ctx);
    this.#fill = new Fill(this.#ctx);
    this.#host = {
      extendBatch: (locks) => extendLocks(this.#ctx, locks).then(() => {}),
      split: (locks) => heartbeatBatches(this.#ctx, locks),
      extendNow: (lock) => this.#heartbeat.extendOne(lock),
      releaseRecords: (lock) => {
        // A waiter of this manager is woken now; its attempt goes out with the release, right behind it.
        // Not once closed: the woken caller would get a lock that outlives the manager.
        const handOff = !this.#closed && this.#notifier.handOff(ctx.keys.channel(lock.resource));
        const options = handOff ? HAND_OFF : WAKE;
        return releaseOn(
          this.#ctx,
          lock.resource,
          lock.token,
          lock.nodes ? { ...options, only: lock.nodes } : options,
          lock.fence,
        ).then((replies) => releaseResult(this.#ctx, replies));
      },
      expiredIsProof: ctx.topology !== 'quorum',
      forget: (lock) => {
        this.#heartbeat.delete(lock);
        if (this.#mine.get(lock.resource) === lock) this.#mine.delete(lock.resource);
      },
    };
    this.#notifier = new ReleaseNotifier(clients, o.maxWaiters, o.requestTimeoutMs, o.logger);
    // Built once: an acquisition passes its resource and options instead of allocating callbacks.
    this.#driver = {
      notifier: this.#notifier,
      closed: () => this.#closed,
      heldHere: (resource) => {
        const lock = this.#mine.get(resource);
        return lock !== undefined && lock.state === 'held' && lock.validUntilMono > performance.now();
      },
      channel: (resource) => ctx.keys.channel(resource),
      announce: true,
      attempt: (resource, token, a) => attemptAcquire(ctx, resource, token, a),
      granted: (resource, token, a, result, attempts, started, span) => {
        const lock = this.#granted(resource, token, a, result, attempts, started);
        span?.setAttributes({ 'cxkit.lock.fence': result.fence, 'cxkit.lock.attempts': attempts });
        return lock;
      },
    };
    checkEvictionPolicies(ctx, () => this.#closed);
  }

  /** Subscribes to a typed event; the returned function (also `Disposable`) unsubscribes. */
  on<K extends keyof LockEvents>(event: K, listener: (payload: LockEvents[K]) => void): Unsubscribe {
    if (!EVENT_NAMES.has(event)) throw new ConfigError('event', `unknown event ${JSON.stringify(event)}`);
    if (typeof listener !== 'function') throw new ConfigError('listener', 'expected a function');
    return this.#events.on(event, listener);
  }

  /**
   * Acquires `resource`. Rejects with `LockConflictError` (409) or `QuorumUnavailableError` (503) after
   * one attempt, or with `AcquireTimeoutError` when `waitMs` runs out; bad input rejects with
   * `ConfigError` before any Redis call.
   */
  acquire(resource: string, options?: AcquireOptions): Promise<Lock> {
    return this.#acquire(resource, options);
  }

  #acquire(resource: string, options: AcquireOptions | undefined): Promise<HeldLock> {
    // Not an async function: the lock reaches the caller without an extra promise hop. Bad input
    // still rejects (never throws synchronously).
    let a: ResolvedAcquire;
    try {
      a = parseAcquire(resource, options, this.#o);
    } catch (err) {
      return Promise.reject(err);
    }
    // Without a registered SDK a span records nothing: skip it and its attributes.
    if (!tracing.enabled) return this.#admitted(resource, () => this.#acquireLoop(resource, a, undefined));
    const attributes = { 'cxkit.lock.resource': resource, 'cxkit.lock.topology': this.topology };
    return this.#admitted(resource, () =>
      tracing.traced('cxkit.locks.acquire', attributes, (span) => this.#acquireLoop(resource, a, span)),
    );
  }

  #acquireLoop(resource: string, a: ResolvedAcquire, span: SpanLike | undefined): Promise<HeldLock> {
    return acquireLoop(this.#ctx, this.#driver, resource, a, span);
  }

  /**
   * Starts an acquisition if the manager is open and below `maxHeldLocks` (counting acquisitions in
   * flight, so concurrent calls cannot overshoot it); `close()` waits for it.
   */
  #admitted<T>(resource: string, start: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(managerClosed(resource));
    if (this.#heartbeat.held.size + this.#acquiring >= this.#o.maxHeldLocks) {
      return Promise.reject(new LockLimitError('maxHeldLocks', this.#o.maxHeldLocks));
    }
    this.#acquiring++;
    const work = start();
    // Counted, not tracked in `#background`: one handler pair per acquisition instead of three promises
    // and two set operations; close() waits for the count to drop to zero.
    work.then(this.#settled, this.#settled);
    return work;
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
    if (typeof fn !== 'function') throw new ConfigError('fn', 'expected a function');
    return runHeld(await this.#acquire(resource, options), fn);
  }

  /**
   * A counting semaphore named `name` with `limit` permits, sharing this manager's heartbeat, wake-up
   * and events. One master or a Cluster only: a Redlock quorum cannot bound a count above one.
   */
  semaphore(name: string, options: { limit: number }): Semaphore {
    checkName('name', name, this.#o);
    if (typeof options !== 'object' || options === null)
      throw new ConfigError('options', 'expected an object');
    knownKeys(options, SEMAPHORE_KEYS, 'semaphore');
    const limit = options.limit;
    if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > 100_000) {
      throw new ConfigError('limit', 'must be an integer from 1 to 100000');
    }
    if (this.topology === 'quorum') {
      throw new ConfigError('nodes', 'a Semaphore needs one master or a Cluster, not a quorum of masters');
    }
    return new Semaphore(
      {
        ctx: this.#ctx,
        notifier: this.#notifier,
        parse: (n, o) => parseAcquire(n, o, this.#o),
        admitted: (n, start) => this.#admitted(n, start),
        closed: () => this.#closed,
        hold: (host, n, token, a, result, attempts, started) =>
          this.#granted(n, token, a, result, attempts, started, host),
        forget: (lock) => this.#heartbeat.delete(lock),
      },
      name,
      limit,
    );
  }

  /**
   * Campaigns for leadership of `name` (on the lock `elect:<name>`): `onElected(lock)` when this
   * instance leads, `onDemoted(reason)` when the lock's signal aborts; campaigns again until stopped.
   */
  elect(name: string, options: ElectOptions): Election {
    if (typeof name !== 'string' || name.length === 0)
      throw new ConfigError('name', 'expected a non-empty string');
    checkName('name', `elect:${name}`, this.#o);
    if (typeof options !== 'object' || options === null)
      throw new ConfigError('options', 'expected an object');
    knownKeys(options, ELECT_KEYS, 'elect');
    if (typeof options.onElected !== 'function') throw new ConfigError('onElected', 'expected a function');
    if (options.onDemoted !== undefined && typeof options.onDemoted !== 'function')
      throw new ConfigError('onDemoted', 'expected a function');
    // Every option the campaign passes to its acquisitions, checked once here: a bad one would
    // otherwise fail each round quietly and the campaign would never lead.
    const { ttlMs, operation, correlationId, signal } = options;
    parseAcquire(`elect:${name}`, { ttlMs, operation, correlationId, signal }, this.#o);
    const { election, ended } = campaign(
      name,
      options,
      (r, o) => this.acquire(r, o),
      this.#o.retry.maxDelayMs,
      this.#o.logger,
      (signal) => this.#givingBack.get(signal),
    );
    this.#elections.add(election);
    void ended.then(() => this.#elections.delete(election));
    return election;
  }

  #granted(
    resource: string,
    token: string,
    a: ReturnType<typeof parseAcquire>,
    result: Extract<Attempt, { ok: true }>,
    attempts: number,
    started: number,
    host: LockHost = this.#host,
  ): HeldLock {
    const lock = new HeldLock(this.#ctx, host, {
      resource,
      token,
      fence: result.fence,
      operation: a.operation,
      correlationId: a.correlationId,
      ttlMs: a.ttlMs,
      heartbeat: a.heartbeat,
      maxHoldMs: a.maxHoldMs,
      startedAt: result.startedAt,
      validUntilMono: result.validUntilMono,
      nodes: result.nodes,
      absent: result.absent,
    });
    if (result.late) result.late.lock = lock;
    // The stale holders were replaced on the nodes (and audited) whether or not this grant is kept.
    for (const { previous, nodes } of result.overridden) {
      const ref = { resource, token, fence: result.fence, region: this.#o.region };
      this.#events.emit('stale', { resource, holder: previous, nodes });
      this.#events.emit('override', { ...ref, previous, nodes });
      this.#o.logger?.warn({ ...ref, previous, nodes }, 'stale lock overridden');
    }
    if (this.#closed || a.signal?.aborted) {
      // Granted while the manager closed, or after the caller gave up (its signal aborted while the
      // attempt was in flight): give it back (close() waits for that; a waiter here is handed it) rather
      // than hand out a lock that nothing heartbeats or nobody wants. It was never handed out: no expiry
      // timer, no 'lost' event.
      lock.discard();
      const back = host.releaseRecords(lock).then(
        () => {},
        () => {},
      );
      this.#ctx.track(back);
      if (a.signal) this.#givingBack.set(a.signal, back);
      throw this.#closed ? managerClosed(resource) : a.signal!.reason;
    }
    this.#heartbeat.add(lock);
    this.#fill.add(lock);
    if (host === this.#host) this.#mine.set(resource, lock);
    if (this.#events.has('acquired'))
      this.#events.emit('acquired', {
        resource,
        token,
        fence: result.fence,
        region: this.#o.region,
        latencyMs: performance.now() - started,
        attempts,
        overridden: result.overridden.length > 0,
      });
    return lock;
  }

  /** The holder of `resource` as each node sees it, plus the holder a quorum of trusted nodes agree on. */
  inspect(resource: string): Promise<Inspection> {
    try {
      parseAcquire(resource, { heartbeat: false }, this.#o);
    } catch (err) {
      return Promise.reject(err);
    }
    return inspectResource(this.#ctx, resource);
  }

  /**
   * Stops heartbeats, releases held locks (their signals abort with reason `closed`), closes subscribers.
   * Every call resolves when that work is done (a second call, e.g. a shutdown hook and `await using`,
   * does not resolve early).
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#closed = true;
    this.#heartbeat.stop();
    this.#fill.stop();
    const held = [...this.#heartbeat.held];
    for (const lock of held) lock.lose('closed');
    await Promise.all(held.map((lock) => lock.release()));
    this.#notifier.close();
    // At most two request timeouts in all, for two things at once: elections were demoted with their
    // locks (reason `closed`) and end once `onDemoted` returned (one that awaits this close() meets the
    // deadline, and the cleanup below still runs meanwhile); acquisitions in flight end (a grant is
    // released again) and add their cleanup to the set while earlier work finishes.
    const deadline = sleep(this.#o.requestTimeoutMs * 2, true, { ref: false });
    const demoted = Promise.all([...this.#elections].map((e) => e.stop()));
    const idle = () =>
      this.#acquiring === 0 ? undefined : new Promise<void>((resolve) => (this.#idle = resolve));
    const drained = (async () => {
      while (this.#background.size > 0 || this.#acquiring > 0) {
        const all = Promise.all([...this.#background, idle()]);
        if (await Promise.race([all.then(() => false), deadline])) return;
      }
    })();
    await Promise.race([Promise.all([demoted, drained]), deadline]);
    for (const node of this.#ctx.nodes) node.close();
  }
}
