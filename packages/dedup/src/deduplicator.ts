import { createTracing, Emitter } from '@cxkit/internal';
import { claimBatch } from './claim-batch.js';
import { ClaimCoalescer } from './claim-coalescer.js';
import { keyPrefixOf } from './client.js';
import type { DedupCore } from './core.js';
import { defaults } from './defaults.js';
import { BatchTooLargeError, DedupClosedError, isDedupMisconfiguredError } from './errors/index.js';
import { type DedupEventName, type DedupEvents, DIAGNOSTICS_PREFIX, type Subscription } from './events.js';
import { inspectRecord, type RecordState } from './inspect.js';
import { Keyspace } from './keys.js';
import { log } from './logger.js';
import { type DeduplicatorOptions, resolveOptions } from './options.js';
import { type ClaimOutcome, toOutcome } from './outcomes.js';
import { type ProcessHandler, type ProcessOptions, type ProcessResult, runProcess } from './process.js';
import { registerScripts } from './scripts.js';
import { type DedupStats, emptyStats } from './stats.js';
import { verifyClient } from './verify.js';
import { ResultWaiters } from './waiters.js';

const tracing = createTracing('@cxkit/dedup');

/**
 * First-write-wins message deduplication on Redis (one master or a Cluster): the first claimer of an id
 * processes it under a heartbeated lease that becomes a `done` marker for `windowMs`; everyone else is
 * told it is a duplicate and may wait for the winner's result.
 */
export class Deduplicator implements AsyncDisposable {
  readonly #core: DedupCore;
  readonly #waiters: ResultWaiters;
  readonly #coalescer: ClaimCoalescer;
  readonly #active = new Set<{ stopHeartbeat(): void }>();
  #verified: Promise<void> | undefined;
  /** Set once the self-check passed, so the hot path skips even the resolved-promise await. */
  #verifiedOk = false;
  #closed = false;

  constructor(options: DeduplicatorOptions) {
    const resolved = resolveOptions(options);
    this.#core = {
      redis: resolved.redis,
      keys: new Keyspace(resolved.namespace, keyPrefixOf(resolved.redis), defaults.maxIdBytes),
      options: resolved,
      events: new Emitter<DedupEvents>({
        onListenerError: (err, event) =>
          log(resolved.logger, 'error', { err, event }, 'dedup event listener threw'),
        diagnosticsPrefix: DIAGNOSTICS_PREFIX,
      }),
      stats: emptyStats(),
    };
    registerScripts(resolved.redis);
    void tracing.load();
    this.#waiters = new ResultWaiters(this.#core);
    this.#coalescer = new ClaimCoalescer(this.#core);
  }

  /** The owner label losers see for claims won by this instance. */
  get owner(): string {
    return this.#core.options.owner;
  }

  /**
   * Startup self-check (run once, lazily before the first claim, or call it at boot): rejects with
   * `DedupMisconfiguredError` when the client does not honour conditional sets with expiry.
   * A misconfiguration is remembered; a connection error is not, so the next call checks again.
   */
  verify(): Promise<void> {
    if (!this.#verified) {
      this.#verified = verifyClient(this.#core).then(
        () => {
          this.#verifiedOk = true;
        },
        (err) => {
          if (!isDedupMisconfiguredError(err)) this.#verified = undefined;
          throw err;
        },
      );
    }
    return this.#verified;
  }

  /**
   * First-write-wins claim of one id in one round trip (one script: owner token, server time). Claims
   * made in the same tick share one script call; each still gets its own outcome.
   */
  claim(id: string): Promise<ClaimOutcome> {
    // Not async: returning the coalescer's promise directly saves a promise and two microtask hops.
    try {
      this.#open();
      this.#core.keys.validate(id);
    } catch (err) {
      return Promise.reject(err);
    }
    if (!this.#verifiedOk) return this.verify().then(() => this.#coalescer.claim(id));
    return this.#coalescer.claim(id);
  }

  /**
   * Claims a batch in one round trip per node (one script per hash slot, pipelined per master on a
   * Cluster). Outcomes come back in input order; a repeated id is claimed by its first occurrence.
   * Every id is validated before anything is written.
   */
  async claimMany(ids: readonly string[]): Promise<ClaimOutcome[]> {
    this.#open();
    if (!Array.isArray(ids)) throw new TypeError('claimMany expects an array of message ids');
    if (ids.length > this.#core.options.maxBatchSize) {
      throw new BatchTooLargeError(ids.length, this.#core.options.maxBatchSize);
    }
    for (const [i, id] of ids.entries()) this.#core.keys.validate(id, i);
    if (ids.length === 0) return [];
    if (!this.#verifiedOk) await this.verify();
    const attributes = {
      'cxkit.dedup.namespace': this.#core.keys.namespace,
      'cxkit.dedup.batch_size': ids.length,
    };
    return tracing.traced('cxkit.dedup.claim_many', attributes, async () => {
      const sentAt = performance.now();
      const replies = await claimBatch(this.#core, ids as string[]);
      return ids.map((id, i) => toOutcome(this.#core, id, replies[i], sentAt));
    });
  }

  /**
   * Runs `handler` exactly once per id among all consumers while the claim holds: the winner resolves
   * `{ status: 'processed', result }`; losers resolve `{ status: 'duplicate', state, owner, result? }`,
   * after waiting up to `waitForResult` ms for the winner when it is still in progress. A throwing
   * handler releases the claim and rethrows, so the next delivery processes the message.
   */
  async process<T>(
    id: string,
    handler: ProcessHandler<T>,
    options: ProcessOptions = {},
  ): Promise<ProcessResult<T>> {
    this.#open();
    this.#core.keys.validate(id);
    const attributes = { 'cxkit.dedup.namespace': this.#core.keys.namespace, 'messaging.message.id': id };
    return tracing.traced('cxkit.dedup.process', attributes, async (span) => {
      const result = await this.#run(id, handler, options);
      span?.setAttribute('cxkit.dedup.outcome', result.status === 'processed' ? 'processed' : result.state);
      return result;
    });
  }

  #run<T>(id: string, handler: ProcessHandler<T>, options: ProcessOptions): Promise<ProcessResult<T>> {
    return runProcess(
      {
        core: this.#core,
        waiters: this.#waiters,
        claim: (x) => this.claim(x),
        track: (keepAlive) => {
          // A claim that was in flight when close() ran: its handler gets no heartbeats either.
          if (this.#closed) keepAlive.stopHeartbeat();
          else this.#active.add(keepAlive);
          return () => this.#active.delete(keepAlive);
        },
      },
      id,
      handler,
      options,
    );
  }

  /** Reads an id's record without claiming it. */
  async inspect(id: string): Promise<RecordState> {
    this.#open();
    this.#core.keys.validate(id);
    await this.verify();
    return inspectRecord(this.#core, id);
  }

  /** Subscribes to a typed event; the returned subscription's `dispose()` unsubscribes. */
  on<K extends DedupEventName>(event: K, listener: (payload: DedupEvents[K]) => void): Subscription {
    return this.#core.events.on(event, listener);
  }

  /** A copy of the counters since construction. */
  stats(): DedupStats {
    return { ...this.#core.stats };
  }

  /**
   * Stops heartbeats (held leases then lapse and are taken over; a handler still running sees its
   * signal abort when its lease lapses), rejects pending waits with `DedupClosedError` and closes the
   * subscriber connection. The caller's Redis client stays open.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const keepAlive of this.#active) keepAlive.stopHeartbeat();
    this.#active.clear();
    await this.#waiters.close();
    this.#core.events.clear();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #open(): void {
    if (this.#closed) throw new DedupClosedError();
  }
}
