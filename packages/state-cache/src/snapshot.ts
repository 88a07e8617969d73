import type { KeySpace } from './keys.js';
import type { NearCache } from './near-cache.js';
import { scanPartition } from './scan-op.js';
import type { StateCacheRedis } from './types.js';

/** Partitions scanned at once, so Redis round trips overlap with decoding the previous page. */
const PARALLEL_PARTITIONS = 4;

/**
 * Snapshot-first warm-up: fills the near cache from Redis in HSCAN pages (no event replay), a few
 * partitions at a time. Every page carries its partition's bus sequence, so an entry the bus has
 * already superseded is not loaded. Stops once the near cache is full. Resolves the entries loaded.
 */
export async function loadSnapshot<T>(
  redis: StateCacheRedis,
  keys: KeySpace,
  near: NearCache<T>,
  options: { budget: number; pageSize: number; timeoutMs: number },
): Promise<number> {
  let loaded = 0;
  let next = 0;
  const worker = async () => {
    while (next < keys.partitionCount && loaded < options.budget) {
      const p = next++;
      for await (const page of scanPartition(redis, keys, p, options.pageSize, options.timeoutMs)) {
        for (const e of page.entries) {
          if (loaded >= options.budget) return;
          if (near.offer(e.key, JSON.parse(e.json) as T, e.version, page.seq)) loaded++;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_PARTITIONS, keys.partitionCount) }, worker));
  return loaded;
}
