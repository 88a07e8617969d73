import { decodeStored, type KeySpace } from './keys.js';
import { assertConnected, bounded } from './timeout.js';
import type { CacheEntry, StateCacheRedis } from './types.js';

/** One HSCAN step of a partition. */
export interface ScanPage {
  partition: number;
  seq: number;
  marked: boolean;
  entries: { key: string; json: string; version: number }[];
}

/**
 * Streams a partition page by page (HSCAN, so Redis is never blocked by a large namespace). Entries
 * may repeat across pages when the hash is resized mid-scan; callers keep the highest version.
 * The partition's bus sequence is read once, before the first page: every page reflects at least
 * that sequence, which is all the near cache needs (an older bound only makes it more careful).
 */
export async function* scanPartition(
  redis: StateCacheRedis,
  keys: KeySpace,
  partition: number,
  count: number,
  timeoutMs: number,
): AsyncGenerator<ScanPage> {
  const k = keys.keysOf(partition);
  const [gen, seq] = await bounded('scan', timeoutMs, redis.hmget(k.meta, 'gen', 'seq'));
  let cursor = '0';
  do {
    const [next, flat] = await bounded('scan', timeoutMs, redis.hscan(k.data, cursor, 'COUNT', count));
    cursor = next;
    const entries: ScanPage['entries'] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const { version, json } = decodeStored(flat[i + 1]!);
      entries.push({ key: flat[i]!, json, version });
    }
    yield { partition, seq: Number(seq ?? 0), marked: gen != null, entries };
  } while (cursor !== '0');
}

/** Streams every live entry of every partition straight from Redis (for `entries()`). */
export async function* streamEntries<T>(
  redis: StateCacheRedis,
  keys: KeySpace,
  pageSize: number,
  timeoutMs: number,
): AsyncGenerator<CacheEntry<T>> {
  for (let p = 0; p < keys.partitionCount; p++) {
    assertConnected(redis, 'entries');
    for await (const page of scanPartition(redis, keys, p, pageSize, timeoutMs)) {
      for (const e of page.entries) yield { key: e.key, value: JSON.parse(e.json) as T, version: e.version };
    }
  }
}
