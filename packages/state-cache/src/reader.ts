import { RedisUnavailableError } from './errors/unavailable-error.js';
import type { KeySpace } from './keys.js';
import { type NearCache, satisfies, type Watermark } from './near-cache.js';
import { type RawRead, readKeys } from './read-op.js';
import { assertConnected, bounded } from './timeout.js';
import { tracing } from './tracing.js';
import type { CacheRead, StateCacheRedis } from './types.js';

export interface ReaderDeps<T> {
  redis: StateCacheRedis;
  keys: KeySpace;
  near: NearCache<T>;
  commandTimeoutMs: number;
  /** True while the bus cannot be shown to be delivering (sequence check overdue): hits are then stale. */
  unverified(): boolean;
}

/** Reads refused by the near cache (an invalidation overtook them) are retried this many times. */
const ATTEMPTS = 3;

/**
 * The read path: trusted near-cache hits first, then one Redis round trip for every miss. A value
 * that Redis returned but the bus has already superseded is read again; when Redis cannot answer,
 * the newest thing the near cache still holds is returned with `stale: true`.
 */
export async function readMany<T>(
  d: ReaderDeps<T>,
  keys: readonly string[],
): Promise<Map<string, CacheRead<T>>> {
  const out = new Map<string, CacheRead<T>>();
  const unverified = d.unverified();
  let misses: string[] = [];
  const marks = new Map<string, Watermark>();
  for (const key of keys) {
    const hit = d.near.fresh(key);
    if (hit) out.set(key, read(hit.value, hit.version, unverified));
    else {
      misses.push(key);
      marks.set(key, d.near.watermark(key));
    }
  }
  for (let attempt = 0; attempt < ATTEMPTS && misses.length > 0; attempt++) {
    let raws: RawRead[];
    try {
      assertConnected(d.redis, 'get');
      const wanted = [...new Set(misses)];
      raws = await tracing.traced('state-cache.read', { 'cxkit.keys': wanted.length }, () =>
        bounded('get', d.commandTimeoutMs, readKeys(d.redis, d.keys, wanted)),
      );
    } catch (err) {
      if (!(err instanceof RedisUnavailableError)) throw err;
      break;
    }
    const refused: string[] = [];
    for (const raw of raws) {
      const value = raw.json === undefined ? undefined : (JSON.parse(raw.json) as T);
      if (!raw.marked) {
        // Redis lost its data or is being rebuilt: what it returned may be incomplete.
        out.set(raw.key, newest(d.near, raw.key, value, raw.version));
      } else if (d.near.offer(raw.key, value, raw.version, raw.seq)) {
        const entry = d.near.fresh(raw.key);
        out.set(raw.key, entry ? read(entry.value, entry.version, false) : read(value, raw.version, false));
      } else if (satisfies(marks.get(raw.key)!, value, raw.version, raw.seq)) {
        // An invalidation overtook this reply: too old to cache, but as new as anything this instance
        // had been told when the read began, so it is a correct answer to this read.
        out.set(raw.key, read(value, raw.version, false));
      } else refused.push(raw.key);
    }
    misses = refused;
  }
  for (const key of misses) if (!out.has(key)) out.set(key, newest(d.near, key, undefined, -1));
  return out;
}

function read<T>(value: T | undefined, version: number, stale: boolean): CacheRead<T> {
  return { found: value !== undefined, value, version: version < 0 ? undefined : version, stale };
}

/** Stale answer: the newer of what Redis returned (if anything) and what the near cache still holds. */
function newest<T>(near: NearCache<T>, key: string, value: T | undefined, version: number): CacheRead<T> {
  const held = near.any(key);
  if (held && held.version > version) return read(held.value, held.version, true);
  return read(value, version, true);
}
