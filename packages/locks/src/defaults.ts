/** Defaults from the split-brain prevention guide (seed 001); every option of `LockManager` falls back here. */
export const defaults = Object.freeze({
  /** Lock time-to-live when `acquire()` is not given `ttlMs`. @default 15_000 */
  defaultTtlMs: 15_000,
  /** Largest `ttlMs` accepted; also the amnesia guard window (the longest TTL a restarted node may have forgotten). @default 60_000 */
  maxTtlMs: 60_000,
  /** Heartbeat period: every held lock is extended and its server-time heartbeat refreshed. @default 5_000 */
  heartbeatIntervalMs: 5_000,
  /** A lock whose last heartbeat (server time) is older than this may be overridden by a contender. @default 15_000 */
  staleAfterMs: 15_000,
  /** Clock drift allowance as a fraction of the TTL (Redlock); 2 ms are always added. @default 0.01 */
  driftFactor: 0.01,
  /** Per-node timeout of one script call; a node that does not answer in time does not vote. @default 1_000 */
  requestTimeoutMs: 1_000,
  /** `WAIT` replica acknowledgements required after each write that keeps a lock (0: no WAIT). @default 0 */
  replicaAcks: 0,
  /** Timeout handed to `WAIT` when `replicaAcks > 0`. @default 200 */
  replicaAckTimeoutMs: 200,
  /** Longest time a lock may be held in total; past it the lock is dropped and its signal aborts. @default 600_000 */
  maxHoldMs: 600_000,
  /** Retry while waiting (`waitMs > 0`): attempt bound and jittered delay between attempts. */
  retry: Object.freeze({
    /** Most acquire rounds of one `acquire()` call after the first. @default 1_000 */
    retries: 1_000,
    /** Smallest delay between two rounds (the fallback when no release is published). @default 50 */
    minDelayMs: 50,
    /** Largest delay between two rounds. @default 500 */
    maxDelayMs: 500,
  }),
  /** Quorum mode: ask a quorum of healthy nodes first, the rest only when needed (`'all'`: every node at once). @default 'quorum' */
  fanout: 'quorum' as 'quorum' | 'all',
  /** Count a node's votes only after its data marker is older than `maxTtlMs` (quorum mode). @default true */
  amnesiaGuard: true,
  /**
   * How long a lock record outlives its lock (released or expired) to keep the resource's fence; past it
   * Redis removes the key and the next fence starts from the node's clock (second x 10^6). @default 600_000
   */
  recordRetentionMs: 600_000,
  /** Key prefix (hash tags keep one resource's keys in one Cluster slot). @default 'cxkit:locks:' */
  prefix: 'cxkit:locks:',
  /** Entries kept in the override audit stream (`XADD MAXLEN ~`). @default 10_000 */
  auditMaxLen: 10_000,
  /**
   * Lifetime of the audit streams that are one per resource (Cluster) or per semaphore, from their last
   * entry; the one shared stream of one master or a quorum never expires. @default 604_800_000 (7 days)
   */
  auditRetentionMs: 604_800_000,
  /** Region recorded in every lock this manager takes. @default 'default' */
  region: 'default',
  /** Longest resource name, in characters. @default 512 */
  maxResourceLength: 512,
  /** Locks one manager may hold at once; past it `acquire()` rejects with `LockLimitError`. @default 10_000 */
  maxHeldLocks: 10_000,
  /** Concurrent waiting `acquire()` calls per manager; past it `acquire()` rejects with `LockLimitError`. @default 10_000 */
  maxWaiters: 10_000,
});

export type LockDefaults = typeof defaults;
