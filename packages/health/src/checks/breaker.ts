import type { CircuitBreakerPolicy } from 'cockatiel';
import { type BreakerState, breakerState, DependencyBreaker } from '../breaker.js';
import type { CheckDefinition, CheckResult, Status } from '../types.js';

export interface BreakerCheckOptions {
  /**
   * A cheap call to the dependency (e.g. `PING`). When the breaker is not closed, each round sends it
   * through the breaker: inside the open window cockatiel refuses it without calling; after
   * `halfOpenAfter` it is the half-open test that closes the breaker on success. Without a probe the
   * breaker only recovers with real traffic.
   */
  probe?: (signal: AbortSignal) => Promise<unknown>;
}

const STATUS: Record<BreakerState, Status> = {
  closed: 'healthy',
  'half-open': 'degraded',
  open: 'unhealthy',
  isolated: 'unhealthy',
};

/** Exposes a breaker as a component: closed -> healthy, half-open -> degraded, open -> unhealthy. */
export function breakerCheck(
  breaker: DependencyBreaker | CircuitBreakerPolicy,
  options: BreakerCheckOptions = {},
): CheckDefinition {
  const policy = breaker instanceof DependencyBreaker ? breaker.policy : breaker;
  const name = breaker instanceof DependencyBreaker ? breaker.name : undefined;
  return {
    componentType: 'component',
    check: async (signal) => {
      let probe: string | undefined;
      if (options.probe && breakerState(policy) !== 'closed') {
        const fn = options.probe;
        // Straight to the policy, not DependencyBreaker.execute: a probe is never retried.
        probe = await policy
          .execute(({ signal: s }) => fn(s), signal)
          .then(
            () => 'succeeded',
            (err: unknown) => `failed: ${err instanceof Error ? err.message : String(err)}`,
          );
      }
      const state = breakerState(policy);
      const result: CheckResult = { status: STATUS[state], state };
      if (name) result.breaker = name;
      if (probe) result.probe = probe;
      const last = policy.lastFailure;
      if (state !== 'closed' && last) {
        result.last_failure =
          'error' in last ? String((last.error as Error)?.message ?? last.error) : 'result';
      }
      return result;
    },
    observe: (r) => [{ measurement: 'state', observedValue: r.state }],
  };
}
