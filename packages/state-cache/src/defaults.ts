/** Defaults from the split-brain prevention guide (seed 001). */
export const defaults = Object.freeze({
  /** @default 10_000 */
  nearCacheMax: 10_000,
  /** @default 60_000 */
  nearCacheTtlMs: 60_000,
});
