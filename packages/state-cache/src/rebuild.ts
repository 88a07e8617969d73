import { randomBytes } from 'node:crypto';
import { ConfigError } from './errors/config-error.js';
import { RebuildError } from './errors/rebuild-error.js';
import type { KeySpace } from './keys.js';
import type { RebuildLease } from './lease.js';
import { runBatch, scripted } from './scripts.js';
import { bounded } from './timeout.js';
import type { StateCacheRedis, StateEvent, StateSource } from './types.js';

export interface RebuildContext<T> {
  redis: StateCacheRedis;
  keys: KeySpace;
  source: StateSource<T>;
  lease: RebuildLease;
  /** Resume point recorded by an interrupted rebuild; undefined replays from the start. */
  fromOffset: string | undefined;
  batchSize: number;
  timeoutMs: number;
  /** Writes a batch through the versioned apply script (so live writes racing the rebuild still win). */
  applyBatch(events: StateEvent<T>[]): Promise<void>;
  onProgress(applied: number, offset: string | undefined): void;
  signal: AbortSignal;
}

export interface RebuildResult {
  applied: number;
  offset: string | undefined;
  generation: string;
}

/**
 * Replays the source into Redis under the lease. After every batch the reached offset is recorded
 * (fenced by the lease), so a successor resumes there. Only when the source is exhausted are the
 * partitions' generation markers set and the namespace marked complete, so readers never take a
 * half-built Redis for a snapshot.
 */
export async function rebuildFromSource<T>(ctx: RebuildContext<T>): Promise<RebuildResult> {
  const signal = AbortSignal.any([ctx.signal, ctx.lease.signal]);
  const fenced = async (offset: string, generation: string) => {
    const ok = await bounded(
      'rebuild',
      ctx.timeoutMs,
      scripted(ctx.redis).cxkit_sc_v1_progress(
        ctx.keys.lease,
        ctx.keys.meta,
        ctx.lease.holder,
        offset,
        generation,
        ctx.keys.partitionCount,
      ),
    );
    if (Number(ok) === -1)
      throw new ConfigError('partitions', 'Redis holds this namespace with another partition count');
    if (Number(ok) !== 1) throw new RebuildError('rebuild lease lost; another instance took over', offset);
  };
  let applied = 0;
  let offset = ctx.fromOffset;
  let batch: StateEvent<T>[] = [];
  // One batch is written while the next is read from the source, so reading and writing overlap.
  let inFlight: Promise<void> | undefined;
  const write = async (events: StateEvent<T>[], reached: string) => {
    await ctx.applyBatch(events);
    await fenced(reached, '');
    applied += events.length;
    offset = reached;
    ctx.onProgress(applied, offset);
  };
  const flush = async (upTo: string | undefined) => {
    await inFlight;
    inFlight = undefined;
    if (batch.length === 0 || upTo === undefined) return;
    inFlight = write(batch, upTo);
    // Marked as handled now; the next flush (or the end) awaits it and sees its error.
    inFlight.catch(() => {});
    batch = [];
  };
  let reached: string | undefined;
  try {
    try {
      for await (const record of ctx.source.read({ fromOffset: ctx.fromOffset, signal })) {
        signal.throwIfAborted();
        batch.push(record.event);
        reached = record.offset;
        if (batch.length >= ctx.batchSize) await flush(reached);
      }
      await flush(reached);
      await inFlight;
    } finally {
      // A failed read must not leave a write running unobserved.
      await inFlight?.catch(() => {});
    }
    signal.throwIfAborted();
    const generation = `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
    await bounded(
      'rebuild',
      ctx.timeoutMs,
      runBatch(
        ctx.redis,
        ctx.keys.partitions.map((k) => ({ name: 'cxkit_sc_v1_mark' as const, args: [k.meta, generation] })),
      ),
    );
    // The namespace generation goes last: until it is set, every instance still sees an incomplete Redis.
    await fenced(offset ?? '', generation);
    return { applied, offset, generation };
  } catch (err) {
    if (err instanceof RebuildError || err instanceof ConfigError) throw err;
    throw new RebuildError(
      `rebuild failed after ${applied} events`,
      offset,
      signal.aborted ? signal.reason : err,
    );
  }
}
