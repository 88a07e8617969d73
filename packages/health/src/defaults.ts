/** Defaults from the split-brain prevention guide (seed 001). */
export const defaults = Object.freeze({
  /** @default 3 */
  recoverAfter: 3,
  /** @default 3 */
  breakerConsecutiveFailures: 3,
});
