import type { Status } from './types.js';

/**
 * Per-component anti-flapping state (seed 001, section 4): a healthy component is reported failing
 * only after `failAfter` consecutive failed rounds, and a failing one is reported healthy again only
 * after `recoverAfter` consecutive healthy rounds. While held, the reported status is the latest
 * failure, so a recovering component never looks better than it has proven to be.
 */
export type HysteresisState =
  | { kind: 'unknown' }
  | { kind: 'healthy'; failures: number; lastFailure: Status }
  | { kind: 'failing'; status: Status; passes: number };

export interface HysteresisLimits {
  failAfter: number;
  recoverAfter: number;
}

/** The next state after one observed round; pure, so it is trivial to test exhaustively. */
export function advance(state: HysteresisState, observed: Status, limits: HysteresisLimits): HysteresisState {
  const passed = observed === 'healthy';
  switch (state.kind) {
    case 'unknown':
      // The first observation is taken as is: there is no earlier healthy period to protect.
      return passed
        ? { kind: 'healthy', failures: 0, lastFailure: 'healthy' }
        : { kind: 'failing', status: observed, passes: 0 };
    case 'healthy': {
      if (passed) return { kind: 'healthy', failures: 0, lastFailure: 'healthy' };
      const failures = state.failures + 1;
      if (failures >= limits.failAfter) return { kind: 'failing', status: observed, passes: 0 };
      return { kind: 'healthy', failures, lastFailure: observed };
    }
    case 'failing': {
      if (!passed) return { kind: 'failing', status: observed, passes: 0 };
      const passes = state.passes + 1;
      if (passes >= limits.recoverAfter) return { kind: 'healthy', failures: 0, lastFailure: 'healthy' };
      return { kind: 'failing', status: state.status, passes };
    }
  }
}

/** The status to report for a state (`unknown` counts as unhealthy: nothing has been proven yet). */
export function reported(state: HysteresisState): Status {
  switch (state.kind) {
    case 'unknown':
      return 'unhealthy';
    case 'healthy':
      return 'healthy';
    case 'failing':
      return state.status;
  }
}
