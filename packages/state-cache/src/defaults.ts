/** Defaults from the split-brain prevention guide (seed 001) and the state-cache lesson (seed 004). */
export const defaults = Object.freeze({
  /** Near-cache capacity in entries. @default 10_000 */
  nearCacheMax: 10_000,
  /** Near-cache entry lifetime; after it a read goes to Redis again. @default 60_000 */
  nearCacheTtlMs: 60_000,
  /** Hash partitions per namespace (each its own Redis slot, sequence and bus stream). @default 16 */
  partitions: 16,
  /** Upper bound for every Redis command; a slower answer counts as unavailable. @default 1_000 */
  commandTimeoutMs: 1_000,
  /** How long a DELETE's tombstone keeps its version so a late UPDATE cannot resurrect it. @default 86_400_000 */
  tombstoneTtlMs: 86_400_000,
  /** Longest accepted key, in characters. @default 512 */
  maxKeyLength: 512,
  /** Events per Lua call; larger batches are split (still sent in one round trip). @default 500 */
  maxEventsPerScript: 500,
  /** Rebuild lease lifetime (seed: lock TTL 15 s). @default 15_000 */
  leaseTtlMs: 15_000,
  /** Rebuild lease heartbeat (seed: heartbeat 5 s). @default 5_000 */
  leaseHeartbeatMs: 5_000,
  /** Events applied per rebuild step (one round trip, one progress event). @default 1_000 */
  rebuildBatchSize: 1_000,
  /** Entries per HSCAN step while loading the snapshot or streaming `entries()`. @default 1_000 */
  snapshotBatchSize: 1_000,
  /** While degraded: how often to probe Redis and look for a finished rebuild. @default 1_000 */
  recoveryIntervalMs: 1_000,
  /** How often sequence numbers are compared with Redis to find silently lost bus messages. @default 1_000 */
  busCheckIntervalMs: 1_000,
  /** Remembered invalidations (key -> newest version told), bounding the stale-load check. @default 50_000 */
  recentInvalidationsMax: 50_000,
});
