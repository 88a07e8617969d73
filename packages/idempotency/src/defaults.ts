/** Defaults from the split-brain prevention guide (seed 001). */
export const defaults = Object.freeze({
  /** Table created by `migrate()` and used by every statement. @default 'idempotency_keys' */
  table: 'idempotency_keys',
  /** How long a key is remembered (the platforms' longest retry window). @default 86_400 (24 h) */
  ttlSeconds: 86_400,
  /** In-progress lease: a run that has not completed after this long may be taken over. @default 30_000 */
  inProgressTtlMs: 30_000,
  /** Completed records held in the in-process LRU front. @default 10_000 */
  localCacheMax: 10_000,
  /** How long the LRU front serves a record (never past the record's own expiry). @default 60_000 */
  localCacheTtlMs: 60_000,
  /** Bytes of responses held in the LRU front. @default 67_108_864 (64 MiB) */
  localCacheMaxBytes: 64 * 1024 * 1024,
  /** Largest response (JSON bytes of status + headers + body) that is stored. @default 1_048_576 (1 MiB) */
  maxResponseBytes: 1024 * 1024,
  /** Longest accepted idempotency key. @default 255 */
  maxKeyLength: 255,
  /** Poll interval while waiting for an in-progress key (LISTEN/NOTIFY usually wakes earlier). @default 250 */
  waitPollMs: 250,
  /** Retry budget for a claim or read when Postgres is unreachable, before `IdempotencyStoreUnavailableError`. @default 1_000 */
  unavailableRetryMs: 1_000,
  /** Keys with a shared in-flight call per process; past it calls still work, without coalescing. @default 10_000 */
  maxInFlight: 10_000,
  /** Calls of one turn of the event loop whose claims (or completions) share one statement. @default 64 */
  maxBatch: 64,
  /** Rows deleted per sweep statement. @default 1_000 */
  sweepBatchSize: 1_000,
  /** Statements per `sweep()` call, so one sweep stays bounded. @default 100 */
  sweepMaxBatches: 100,
});
