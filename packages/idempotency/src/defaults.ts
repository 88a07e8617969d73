/** Defaults from the split-brain prevention guide (seed 001). */
export const defaults = Object.freeze({
  /** @default 86_400 (24 h) */
  ttlSeconds: 86_400,
  /** @default 10_000 */
  localCacheMax: 10_000,
  /** @default 60_000 */
  localCacheTtlMs: 60_000,
});
