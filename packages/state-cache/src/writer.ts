import { applyEncoded } from './apply-op.js';
import type { KeySpace } from './keys.js';
import type { NearCache } from './near-cache.js';
import type { ResolvedOptions } from './options.js';
import { registerScripts } from './scripts.js';
import { assertConnected, bounded } from './timeout.js';
import type { ApplyResult, StateEvent } from './types.js';
import { type EncodedEvent, encodeEvents } from './validate.js';

export interface WriterDeps<T> {
  options: ResolvedOptions<T>;
  keys: KeySpace;
  near: NearCache<T>;
  writerId: string;
}

/**
 * The write path. `live`: the batch is validated as a whole (one bad event rejects it, nothing is
 * written) and this instance's near cache takes the applied values at once. `rebuild`: a bad record
 * in the log is skipped and logged (it must not stop a rebuild forever), and the near cache is left
 * to the snapshot reload that follows the rebuild.
 */
export async function writeEvents<T>(
  d: WriterDeps<T>,
  events: readonly StateEvent<T>[],
  mode: 'live' | 'rebuild',
): Promise<{ results: ApplyResult[]; unmarked: number[] }> {
  const o = d.options;
  let list = events;
  let encoded: EncodedEvent[];
  if (mode === 'live') encoded = encodeEvents(list, o.schema, o.maxKeyLength);
  else {
    const kept: StateEvent<T>[] = [];
    encoded = [];
    events.forEach((e, index) => {
      try {
        encoded.push(encodeEvents([e], o.schema, o.maxKeyLength)[0]!);
        kept.push(e);
      } catch (err) {
        o.logger?.error(
          { err, index, namespace: o.namespace },
          'state-cache rebuild skipped an invalid event',
        );
      }
    });
    list = kept;
  }
  if (encoded.length === 0) return { results: [], unmarked: [] };
  assertConnected(o.redis, 'apply');
  registerScripts(o.redis);
  const outcome = await bounded(
    'apply',
    o.commandTimeoutMs,
    applyEncoded(o.redis, d.keys, d.writerId, o.tombstoneTtlMs, o.maxEventsPerScript, encoded),
  );
  if (mode === 'live') {
    for (const { index, seq } of outcome.applied) {
      const e = list[index]!;
      const deleted = e.type === 'DELETED';
      // A parsed copy, so the caller mutating its object later cannot change the cache.
      const value = deleted ? undefined : (JSON.parse(encoded[index]!.json) as T);
      d.near.invalidate(e.key, e.version, seq, deleted);
      d.near.offer(e.key, value, e.version, seq);
    }
  }
  return { results: outcome.results, unmarked: outcome.unmarked };
}
