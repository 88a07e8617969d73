import { decodeStored, type KeySpace } from './keys.js';
import { type Reply, scripted } from './scripts.js';
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
 */
export async function* scanPartition(
  redis: StateCacheRedis,
  keys: KeySpace,
  partition: number,
  count: number,
  timeoutMs: number,
): AsyncGenerator<ScanPage> {
  const k = keys.keysOf(partition);
  let cursor = '0';
  do {
    const reply = (await bounded(
      'scan',
      timeoutMs,
      scripted(redis).cxkit_sc_v1_scan(k.data, k.meta, cursor, count),
    )) as Reply[];
    cursor = String(reply[2]);
    const entries: ScanPage['entries'] = [];
    for (let i = 3; i + 1 < reply.length; i += 2) {
      const { version, json } = decodeStored(String(reply[i + 1]));
      entries.push({ key: String(reply[i]), json, version });
    }
    yield { partition, seq: Number(reply[1]), marked: Boolean(reply[0]), entries };
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
