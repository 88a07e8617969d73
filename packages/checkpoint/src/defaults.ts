/** Defaults from the split-brain prevention guide (seed 001). */
export const defaults = Object.freeze({
  /** @default 3_600 (1 h) */
  ttlSeconds: 3_600,
  /** @default 10 */
  history: 10,
});
