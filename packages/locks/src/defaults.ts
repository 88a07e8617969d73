/** Defaults from the split-brain prevention guide (seed 001). */
export const defaults = Object.freeze({
  /** @default 15_000 */
  defaultTtlMs: 15_000,
  /** @default 5_000 */
  heartbeatIntervalMs: 5_000,
  /** @default 15_000 */
  staleAfterMs: 15_000,
});
