import { ConfigError } from './errors/config-error.js';
import type { StateCacheEvents } from './events.js';
import type { KeySpace } from './keys.js';
import { RebuildLease } from './lease.js';
import { type Markers, otherLayout, readMarkers } from './markers.js';
import type { ResolvedOptions } from './options.js';
import { rebuildFromSource } from './rebuild.js';
import { bounded, sleep } from './timeout.js';
import { tracing } from './tracing.js';
import type { StateCacheRedis, StateCacheStatus, StateEvent, StateSource } from './types.js';

export interface RecoveryDeps<T> {
  redis: StateCacheRedis;
  keys: KeySpace;
  options: ResolvedOptions<T>;
  holder: string;
  signal: AbortSignal;
  setStatus(status: StateCacheStatus, reason: string): void;
  emit<K extends keyof StateCacheEvents>(event: K, payload: StateCacheEvents[K]): void;
  applyInternal(events: StateEvent<T>[]): Promise<void>;
  /** Loads the near cache; false when the bus dropped meanwhile (the load may miss invalidations). */
  loadSnapshot(seqs: number[]): Promise<boolean>;
  publish(message: object): Promise<void>;
  /** Whether invalidations can reach this instance; a snapshot loaded without them could go stale unseen. */
  busConnected(): boolean;
}

const emptySource: StateSource<never> = { read: async function* () {} };

/**
 * The way back to `ready`: while degraded, probe Redis every `recoveryIntervalMs`; if its markers are
 * complete, reload the snapshot; if not, race for the rebuild lease. The winner replays the source, the
 * others wait (woken early by the winner's `rebuilt` bus message) and then reload.
 */
export class Recovery<T> {
  #running: Promise<void> | undefined;
  #wake = new AbortController();

  constructor(private readonly d: RecoveryDeps<T>) {}

  markers(): Promise<Markers> {
    return bounded('markers', this.d.options.commandTimeoutMs, readMarkers(this.d.redis, this.d.keys));
  }

  /** Loads the snapshot and becomes `ready` when Redis holds a complete generation; false otherwise. */
  async tryComplete(reason: string): Promise<Markers | false> {
    if (!this.d.busConnected()) return false;
    let markers: Markers;
    try {
      markers = await this.markers();
    } catch {
      return false;
    }
    // Before the completeness check: with more partitions than stored, the extra ones are unmarked.
    this.#assertLayout(markers);
    if (!markers.complete) return false;
    // A bus that dropped during the load (even if it is back) leaves it untrusted, and a load that failed
    // (a page timed out) is not complete: either way the recovery loop tries again.
    let loaded: boolean;
    try {
      loaded = await this.d.loadSnapshot(markers.seqs);
    } catch (err) {
      this.d.emit('error', { error: err as Error });
      this.d.options.logger?.warn(
        { err, namespace: this.d.options.namespace },
        'state-cache snapshot load failed',
      );
      return false;
    }
    if (!loaded || !this.d.busConnected()) return false;
    this.d.setStatus('ready', reason);
    return markers;
  }

  #assertLayout(markers: Markers): void {
    if (otherLayout(markers, this.d.options.partitions))
      throw new ConfigError('partitions', `Redis holds this namespace with ${markers.partitions} partitions`);
  }

  /** Starts the background loop unless it is already running. */
  run(): void {
    if (this.#running || this.d.signal.aborted) return;
    this.#running = this.#loop().finally(() => {
      this.#running = undefined;
    });
  }

  /** Ends the current wait early (a rebuild finished elsewhere, or the bus reconnected). */
  wake(): void {
    this.#wake.abort();
  }

  async #loop(): Promise<void> {
    const { options: o, signal } = this.d;
    while (!signal.aborted) {
      try {
        if (this.d.redis.status === 'ready') {
          if (await this.tryComplete('recovered')) return;
          const markers = await this.markers();
          if (!markers.complete) await this.#tryRebuild(markers);
          if (await this.tryComplete('rebuilt')) return;
        }
      } catch (err) {
        this.d.emit('error', { error: err as Error });
        o.logger?.warn({ err, namespace: o.namespace }, 'state-cache recovery step failed');
      }
      if (this.#wake.signal.aborted) this.#wake = new AbortController();
      await sleep(o.recoveryIntervalMs, AbortSignal.any([signal, this.#wake.signal])).catch(() => {});
    }
  }

  async #tryRebuild(seen: Markers): Promise<void> {
    const { options: o } = this.d;
    const lease = new RebuildLease(
      this.d.redis,
      this.d.keys,
      this.d.holder,
      o.lease.ttlMs,
      o.lease.heartbeatMs,
      o.commandTimeoutMs,
    );
    if (!(await lease.acquire())) return;
    // Another instance may have finished between our check and our acquisition.
    const current = await this.markers().catch(() => seen);
    if (current.complete || otherLayout(current, o.partitions)) {
      await lease.release();
      this.#assertLayout(current);
      return;
    }
    const markers = current;
    const started = Date.now();
    this.d.setStatus('rebuilding', 'redis incomplete');
    if (!o.source)
      o.logger?.warn({ namespace: o.namespace }, 'state-cache has no source: starting an empty generation');
    try {
      // An interrupted rebuild left its offset and no generation: resume there. A once-complete
      // namespace that lost partitions replays from the start, since its offset covers lost data.
      const fromOffset = markers.generation === undefined ? markers.offset : undefined;
      const result = await tracing.traced('state-cache.rebuild', { 'cxkit.namespace': o.namespace }, () =>
        rebuildFromSource({
          redis: this.d.redis,
          keys: this.d.keys,
          source: o.source ?? emptySource,
          lease,
          fromOffset,
          batchSize: o.rebuildBatchSize,
          timeoutMs: o.commandTimeoutMs,
          applyBatch: (events) => this.d.applyInternal(events),
          onProgress: (applied, offset) => this.d.emit('rebuild-progress', { applied, offset }),
          signal: this.d.signal,
        }),
      );
      this.d.emit('rebuild-complete', { ...result, durationMs: Date.now() - started });
      await this.d.publish({ c: 'rebuilt', g: result.generation }).catch(() => {});
    } catch (err) {
      this.d.setStatus('degraded', 'rebuild failed');
      throw err;
    } finally {
      await lease.release();
    }
  }
}
