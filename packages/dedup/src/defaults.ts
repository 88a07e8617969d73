/** Defaults from the split-brain prevention guide (seed 001). */
export const defaults = Object.freeze({
  /** @default 60_000 */
  windowMs: 60_000,
  /** @default 30_000 */
  leaseMs: 30_000,
});
