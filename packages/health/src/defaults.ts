/** Defaults from the split-brain prevention guide (seed 001, section 4). */
export const defaults = Object.freeze({
  /**
   * Consecutive healthy rounds before a component that left `healthy` counts as healthy again.
   * @default 3
   */
  recoverAfter: 3,
  /**
   * Consecutive failed rounds before a healthy component is reported as failing.
   * @default 1
   */
  failAfter: 1,
  /**
   * Time each check may take before it is aborted and counted as unhealthy.
   * @default 2000
   */
  timeoutMs: 2_000,
  /**
   * Pause between the end of one background round and the start of the next.
   * @default 5000
   */
  intervalMs: 5_000,
  /**
   * Grace after a timeout in which a check may still return partial details (e.g. which node hung).
   * @default 100
   */
  abortGraceMs: 100,
  /**
   * Consecutive failures that open a dependency breaker.
   * @default 3
   */
  breakerConsecutiveFailures: 3,
  /**
   * Time an open breaker waits before it lets one half-open probe through.
   * @default 10000
   */
  halfOpenAfterMs: 10_000,
  /**
   * Retries per call of a dependency breaker (p-retry, with jitter).
   * @default 2
   */
  retries: 2,
  /**
   * First retry delay; later ones grow by a factor of 2 with full jitter.
   * @default 50
   */
  retryMinTimeoutMs: 50,
  /**
   * Upper bound of one retry delay.
   * @default 1000
   */
  retryMaxTimeoutMs: 1_000,
  /**
   * Retry budget: tokens deposited per first attempt (0.2 = at most ~20% extra load from retries).
   * @default 0.2
   */
  retryBudgetRatio: 0.2,
  /**
   * Retry budget: tokens refilled per second regardless of traffic, so low-volume callers can retry.
   * @default 1
   */
  retryBudgetMinPerSecond: 1,
  /**
   * Retry budget: the most tokens the budget holds.
   * @default 10
   */
  retryBudgetMaxTokens: 10,
  /**
   * Highest acceptable p99 event-loop delay for `applicationCheck`.
   * @default 200
   */
  maxEventLoopDelayMs: 200,
  /**
   * Highest acceptable replication lag for `postgresReplicationCheck` (seed: 50 ms).
   * @default 50
   */
  maxLagMs: 50,
  /**
   * Highest acceptable response time for `httpLatencyCheck`.
   * @default 1000
   */
  latencyThresholdMs: 1_000,
  /**
   * Delay between failing readiness and closing resources on shutdown, so load balancers notice.
   * @default 5000
   */
  drainDelayMs: 5_000,
  /**
   * Longest wait for in-flight work on shutdown.
   * @default 10000
   */
  inFlightTimeoutMs: 10_000,
  /**
   * Longest wait for one resource's `close()` on shutdown.
   * @default 5000
   */
  closeTimeoutMs: 5_000,
  /**
   * Lifetime of a region's failover vote; a region that stops voting stops counting.
   * @default 15000
   */
  voteTtlMs: 15_000,
  /**
   * How long a recorded failover decision is kept for audit.
   * @default 86400000
   */
  decisionTtlMs: 86_400_000,
});
