import type { KeySpace } from './keys.js';
import type { NearCache } from './near-cache.js';
import { scanPartition } from './scan-op.js';
import type { StateCacheRedis } from './types.js';

/**
 * Snapshot-first warm-up: fills the near cache from Redis, partition by partition, in HSCAN pages
 * (no event replay). Every page carries its partition's bus sequence, so an entry the bus has
 * already superseded is not loaded. Stops once the near cache is full. Resolves the entries loaded.
 */
export async function loadSnapshot<T>(
  redis: StateCacheRedis,
  keys: KeySpace,
  near: NearCache<T>,
  options: { budget: number; pageSize: number; timeoutMs: number },
): Promise<number> {
  let loaded = 0;
  for (let p = 0; p < keys.partitionCount && loaded < options.budget; p++) {
    for await (const page of scanPartition(redis, keys, p, options.pageSize, options.timeoutMs)) {
      for (const e of page.entries) {
        if (loaded >= options.budget) break;
        if (near.offer(e.key, JSON.parse(e.json) as T, e.version, page.seq)) loaded++;
      }
      if (loaded >= options.budget) break;
    }
  }
  return loaded;
}
