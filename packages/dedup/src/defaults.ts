/** Defaults from the split-brain prevention guide (seed 001) and the fan-out lesson (seeds 003/004). */
export const defaults = Object.freeze({
  /** Key prefix of every record; put a `{hashtag}` in it only if all ids must share one Cluster slot. @default 'cxkit:dedup' */
  namespace: 'cxkit:dedup',
  /** How long a `done` marker keeps repeats away (the dedup window). @default 60_000 */
  windowMs: 60_000,
  /** Processing lease: a winner that stops heartbeating is taken over after this long. @default 30_000 */
  leaseMs: 30_000,
  /** Heartbeat period while a handler runs; must be below `leaseMs`. @default leaseMs / 3 (10_000) */
  heartbeatIntervalMs: 10_000,
  /** Largest handler result (as JSON, in bytes) kept with the done marker. @default 16_384 */
  maxResultBytes: 16_384,
  /** Largest message id in bytes (UTF-8). @default 512 */
  maxIdBytes: 512,
  /** Most ids one `claimMany` call accepts. @default 10_000 */
  maxBatchSize: 10_000,
  /** Most losers waiting for a result at once in this process. @default 10_000 */
  maxWaiters: 10_000,
});
