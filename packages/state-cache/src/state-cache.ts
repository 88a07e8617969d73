import { randomBytes } from 'node:crypto';
import { Emitter } from '@cxkit/internal';
import { Bus } from './bus.js';
import { StateCacheClosedError } from './errors/closed-error.js';
import { ConfigError } from './errors/config-error.js';
import { InvalidEventError } from './errors/invalid-event-error.js';
import type { Disposable, StateCacheEvents } from './events.js';
import { KeySpace } from './keys.js';
import { otherLayout } from './markers.js';
import { NearCache } from './near-cache.js';
import { type ResolvedOptions, resolveOptions, type StateCacheOptions } from './options.js';
import { readMany } from './reader.js';
import { Recovery } from './recovery.js';
import { streamEntries } from './scan-op.js';
import { registerScripts } from './scripts.js';
import { loadSnapshot } from './snapshot.js';
import { bounded } from './timeout.js';
import { tracing } from './tracing.js';
import type {
  ApplyResult,
  CacheEntry,
  CacheRead,
  StateCacheRedis,
  StateCacheStatus,
  StateEvent,
} from './types.js';
import { keyProblem } from './validate.js';
import { writeEvents } from './writer.js';

/**
 * Authoritative state in Redis with a near cache per instance. Writes are versioned events applied
 * atomically in Lua; reads come from the near cache, which the bus keeps no older than the last
 * invalidation it delivered. Start is snapshot-first; an empty or unreachable Redis makes the instance
 * `degraded` while one instance rebuilds Redis from the source under a lease.
 */
export class StateCache<T> {
  /** Identifies this instance in bus messages and as rebuild lease holder. */
  readonly id = `${process.pid}-${randomBytes(6).toString('hex')}`;
  readonly #o: ResolvedOptions<T>;
  readonly #keys: KeySpace;
  readonly #near: NearCache<T>;
  readonly #subscriber: StateCacheRedis;
  readonly #ownSubscriber: boolean;
  readonly #bus: Bus;
  readonly #recovery: Recovery<T>;
  readonly #closed = new AbortController();
  readonly #events = new Emitter<StateCacheEvents>();
  #status: StateCacheStatus = 'cold';
  #checkTimer: NodeJS.Timeout | undefined;
  #verifiedAt = 0;

  constructor(options: StateCacheOptions<T>) {
    this.#o = resolveOptions(options);
    const o = this.#o;
    void tracing.load();
    if (o.nearCache.max > o.recentInvalidationsMax * 10)
      throw new ConfigError('recentInvalidationsMax', 'must be at least a tenth of nearCache.max');
    this.#keys = new KeySpace(o.namespace, o.partitions);
    this.#near = new NearCache<T>(
      {
        max: o.nearCache.max,
        ttlMs: o.nearCache.ttlMs,
        toldMax: o.recentInvalidationsMax,
        partitions: o.partitions,
      },
      (key) => this.#keys.partitionOf(key),
    );
    // Nothing is trusted before the first snapshot load, which runs only once the bus is subscribed.
    this.#near.distrust();
    this.#ownSubscriber = o.subscriber === undefined;
    this.#subscriber = o.subscriber ?? (o.redis.duplicate() as StateCacheRedis);
    this.#bus = new Bus(this.#subscriber, this.#keys.channel, o.partitions, {
      invalidation: (m) => {
        for (const [key, version, deleted] of m.changes) this.#near.invalidate(key, version, m.seq, deleted);
      },
      gap: (partition, expected, received, reason) => {
        this.#near.suspect(partition, received);
        this.#o.logger?.warn(
          { namespace: o.namespace, partition, expected, received, reason },
          'state-cache bus gap',
        );
        this.emit('gap', { partition, expected, received, reason });
      },
      control: (m) => {
        if (m.c === 'rebuilt') this.#recovery.wake();
      },
      down: () => {
        this.#near.distrust();
        this.emit('gap', {
          partition: 'all',
          expected: undefined,
          received: undefined,
          reason: 'bus disconnected',
        });
        this.#degrade('redis unreachable');
      },
      up: () => this.#recovery.wake(),
    });
    this.#recovery = new Recovery<T>({
      redis: o.redis,
      keys: this.#keys,
      options: o,
      holder: this.id,
      signal: this.#closed.signal,
      setStatus: (s, reason) => this.#setStatus(s, reason),
      emit: (event, payload) => this.emit(event, payload as never),
      applyInternal: (events) => this.#applyInternal(events, false).then(() => {}),
      loadSnapshot: (seqs) => this.#loadSnapshot(seqs),
      publish: (message) => this.#bus.publish(o.redis, message),
      busConnected: () => this.#bus.connected,
    });
  }

  /** Subscribes to a typed event; `dispose()` (or `using`) unsubscribes. A throwing listener cannot break the cache. */
  on<K extends keyof StateCacheEvents>(
    event: K,
    listener: (payload: StateCacheEvents[K]) => void,
  ): Disposable {
    return this.#events.on(event, listener);
  }

  /** Listener errors are the listener's problem; the cache's state machine must not stop. */
  protected emit<K extends keyof StateCacheEvents>(event: K, payload: StateCacheEvents[K]): void {
    this.#events.emit(event, payload);
  }

  get status(): StateCacheStatus {
    return this.#status;
  }

  get namespace(): string {
    return this.#o.namespace;
  }

  /** Entries held in the near cache (trusted or not). */
  get nearCacheSize(): number {
    return this.#near.size;
  }

  /**
   * Snapshot-first start: subscribes to the bus, checks the generation markers and loads the near
   * cache from Redis in batches. Resolves `ready`, or `degraded` at once when Redis is empty or
   * unreachable (a rebuild then runs in the background). Never waits longer than a few command timeouts.
   */
  async start(): Promise<StateCacheStatus> {
    this.#assertOpen();
    if (this.#status !== 'cold') return this.#status;
    registerScripts(this.#o.redis);
    this.#setStatus('warming', 'start');
    try {
      await bounded('subscribe', this.#o.commandTimeoutMs, this.#bus.start());
    } catch (err) {
      this.#o.logger?.warn({ err, namespace: this.#o.namespace }, 'state-cache bus unavailable at start');
    }
    const started = await this.#recovery.tryComplete('start');
    // Closed meanwhile: no recovery loop and no check timer outlive close().
    if (this.#closed.signal.aborted) return this.#status;
    if (!started) this.#degrade('start');
    this.#checkTimer = setInterval(() => void this.#checkBus(), this.#o.busCheckIntervalMs);
    this.#checkTimer.unref();
    return this.#status;
  }

  /**
   * Resolves once the status is `ready` (at once if it is). Rejects when `signal` aborts or the cache
   * closes. A fresh namespace becomes ready after its (empty) first generation is written.
   */
  ready(signal?: AbortSignal): Promise<void> {
    this.#assertOpen();
    if (this.#status === 'ready') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const stop = AbortSignal.any(signal ? [signal, this.#closed.signal] : [this.#closed.signal]);
      const onAbort = () => {
        sub.dispose();
        reject(stop.reason);
      };
      const sub = this.on('status', ({ to }) => {
        if (to !== 'ready') return;
        sub.dispose();
        stop.removeEventListener('abort', onAbort);
        resolve();
      });
      if (stop.aborted) onAbort();
      else stop.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Applies one event; resolves its outcome. */
  apply(event: StateEvent<T>): Promise<ApplyResult>;
  /** Applies a batch in one round trip (validated as a whole first); resolves one outcome per event. */
  apply(events: readonly StateEvent<T>[]): Promise<ApplyResult[]>;
  async apply(input: StateEvent<T> | readonly StateEvent<T>[]): Promise<ApplyResult | ApplyResult[]> {
    this.#assertOpen();
    const many = Array.isArray(input);
    const events = (many ? input : [input]) as readonly StateEvent<T>[];
    const results = await tracing.traced(
      'state-cache.apply',
      { 'cxkit.namespace': this.#o.namespace, 'cxkit.events': events.length },
      async (span) => {
        const r = await this.#applyInternal(events, true);
        span?.setAttribute('cxkit.applied', r.filter((x) => x.outcome === 'applied').length);
        return r;
      },
    );
    return many ? results : results[0]!;
  }

  async #applyInternal(events: readonly StateEvent<T>[], strict: boolean): Promise<ApplyResult[]> {
    const deps = { options: this.#o, keys: this.#keys, near: this.#near, writerId: this.id };
    const { results, unmarked } = await writeEvents(deps, events, strict ? 'live' : 'rebuild');
    if (unmarked.length > 0 && this.#status === 'ready') this.#degrade('redis lost its data');
    return results;
  }

  /** Reads one key: near cache first, then Redis; `stale: true` when Redis could not confirm it. */
  async get(key: string): Promise<CacheRead<T>> {
    return (await this.getMany([key])).get(key)!;
  }

  /** Reads many keys; near-cache misses go to Redis in one round trip. */
  async getMany(keys: readonly string[]): Promise<Map<string, CacheRead<T>>> {
    this.#assertOpen();
    keys.forEach((key, i) => {
      const problem = keyProblem(key, this.#o.maxKeyLength);
      if (problem) throw new InvalidEventError(i, key, problem);
    });
    return readMany(
      {
        redis: this.#o.redis,
        keys: this.#keys,
        near: this.#near,
        commandTimeoutMs: this.#o.commandTimeoutMs,
        unverified: () => this.#unverified(),
      },
      keys,
    );
  }

  /** Streams every live entry from Redis (HSCAN per partition); duplicates across pages are possible. */
  async *entries(options: { batchSize?: number } = {}): AsyncGenerator<CacheEntry<T>> {
    this.#assertOpen();
    registerScripts(this.#o.redis);
    const pageSize = options.batchSize ?? this.#o.snapshotBatchSize;
    yield* streamEntries<T>(this.#o.redis, this.#keys, pageSize, this.#o.commandTimeoutMs);
  }

  /** Stops background work and the bus. Safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed.signal.aborted) return;
    this.#closed.abort(new StateCacheClosedError());
    clearInterval(this.#checkTimer);
    // A subscriber of our own is then disconnected; one supplied by the caller stays open.
    await this.#bus.close(this.#o.commandTimeoutMs);
    if (this.#ownSubscriber) this.#subscriber.disconnect();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #loadSnapshot(seqs: number[]): Promise<boolean> {
    // The bus dropped after the caller looked: trusting now would outlast the `down` that came first.
    if (!this.#bus.connected) return false;
    this.#near.trustFrom(seqs);
    this.#bus.resync(seqs);
    this.#verifiedAt = performance.now();
    const o = this.#o;
    const loaded = await tracing.traced(
      'state-cache.snapshot',
      { 'cxkit.namespace': o.namespace },
      async (span) => {
        const n = await loadSnapshot(o.redis, this.#keys, this.#near, {
          budget: o.nearCache.max,
          pageSize: o.snapshotBatchSize,
          timeoutMs: o.commandTimeoutMs,
        });
        span?.setAttribute('cxkit.loaded', n);
        return n;
      },
    );
    o.logger?.debug({ namespace: o.namespace, loaded }, 'state-cache snapshot loaded');
    // Down and back during the load: invalidations may have been missed, so nothing loaded is trusted.
    if (!this.#bus.connected) this.#near.distrust();
    return this.#near.trusting;
  }

  /** The sequence check has not succeeded for two intervals: the bus may be silently stalled. */
  #unverified(): boolean {
    return performance.now() - this.#verifiedAt > 2 * this.#o.busCheckIntervalMs + this.#o.commandTimeoutMs;
  }

  async #checkBus(): Promise<void> {
    if (this.#status !== 'ready' || !this.#bus.connected) return;
    try {
      const markers = await this.#recovery.markers();
      // Recovery then reports the ConfigError and does not rebuild over the other layout.
      if (otherLayout(markers, this.#o.partitions)) return this.#degrade('partition count changed');
      if (!markers.complete) return this.#degrade('redis lost its data');
      this.#bus.check(markers.seqs);
      this.#verifiedAt = performance.now();
    } catch {
      // Unreachable Redis is noticed by the bus connection; the check simply skips this round.
    }
  }

  #degrade(reason: string): void {
    if (this.#closed.signal.aborted) return;
    if (this.#status === 'ready' || this.#status === 'warming') this.#setStatus('degraded', reason);
    this.#recovery.run();
  }

  #setStatus(to: StateCacheStatus, reason: string): void {
    const from = this.#status;
    if (from === to) return;
    this.#status = to;
    this.#o.logger?.info({ namespace: this.#o.namespace, from, to, reason }, 'state-cache status');
    this.emit('status', { from, to, reason });
  }

  #assertOpen(): void {
    if (this.#closed.signal.aborted) throw new StateCacheClosedError();
  }
}
