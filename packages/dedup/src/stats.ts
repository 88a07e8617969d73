/** Counters since construction; `stats()` returns a copy. */
export interface DedupStats {
  /** Claims this instance won (including takeovers). */
  claimed: number;
  /** Claims won over a lapsed lease of a dead or stalled winner. */
  takeovers: number;
  /** Claims that found the message in progress elsewhere. */
  duplicatesInProgress: number;
  /** Claims that found the message done within the window. */
  duplicatesDone: number;
  /** Done markers written. */
  done: number;
  /** Claims released (handler failed, result too large, explicit). */
  released: number;
  /** Leases this instance saw lapse (as taker, winner or waiter). */
  leaseExpired: number;
  /** Heartbeats that could not reach Redis. */
  heartbeatErrors: number;
  /** Losers that waited for a result. */
  waits: number;
  /** Waits that ended with a result. */
  waitsResolved: number;
  /** Waits that ended with WinnerFailedError. */
  waitsFailed: number;
  /** Waits that ended with WaitTimeoutError. */
  waitsTimedOut: number;
}

export function emptyStats(): DedupStats {
  return {
    claimed: 0,
    takeovers: 0,
    duplicatesInProgress: 0,
    duplicatesDone: 0,
    done: 0,
    released: 0,
    leaseExpired: 0,
    heartbeatErrors: 0,
    waits: 0,
    waitsResolved: 0,
    waitsFailed: 0,
    waitsTimedOut: 0,
  };
}
