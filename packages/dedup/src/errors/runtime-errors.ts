import { DedupError, type DedupErrorOptions } from './base.js';

/**
 * The Redis client does not honour conditional sets with expiry (NX/PX), or the dedup scripts do not
 * answer as a real Redis would. Deduplicating on such a client would silently process every duplicate.
 */
export class DedupMisconfiguredError extends DedupError {
  constructor(
    readonly check: string,
    detail: string,
    options: DedupErrorOptions = {},
  ) {
    super('DEDUP_MISCONFIGURED', 500, `Redis self-check "${check}" failed: ${detail}`, options);
  }
}

export const isDedupMisconfiguredError = (value: unknown): value is DedupMisconfiguredError =>
  value instanceof DedupMisconfiguredError;

export type WinnerFailure = 'released' | 'lease-expired' | 'vanished';

/** A loser waited for the winner's result, but the winner failed (released) or died (lease lapsed). */
export class WinnerFailedError extends DedupError {
  constructor(
    readonly id: string,
    readonly owner: string | undefined,
    readonly reason: WinnerFailure,
  ) {
    const why =
      reason === 'released'
        ? 'failed and released the claim'
        : reason === 'lease-expired'
          ? 'stopped heartbeating; its lease lapsed'
          : 'left no record (released or expired before the result could be read)';
    super(
      'DEDUP_WINNER_FAILED',
      409,
      `winner ${owner ?? '(unknown)'} of "${id}" ${why}; claim it again to process it`,
    );
  }
}

export const isWinnerFailedError = (value: unknown): value is WinnerFailedError =>
  value instanceof WinnerFailedError;

/** `waitForResult` ran out before the winner finished; the winner may still be processing. */
export class WaitTimeoutError extends DedupError {
  constructor(
    readonly id: string,
    readonly owner: string | undefined,
    readonly waitedMs: number,
  ) {
    super(
      'DEDUP_WAIT_TIMEOUT',
      504,
      `no result for "${id}" from ${owner ?? '(unknown)'} within ${waitedMs} ms`,
    );
  }
}

export const isWaitTimeoutError = (value: unknown): value is WaitTimeoutError =>
  value instanceof WaitTimeoutError;

/** More losers are waiting in this process than `maxWaiters`; this one was refused, not queued. */
export class TooManyWaitersError extends DedupError {
  constructor(readonly limit: number) {
    super('DEDUP_TOO_MANY_WAITERS', 503, `more than maxWaiters (${limit}) losers are waiting for results`);
  }
}

export const isTooManyWaitersError = (value: unknown): value is TooManyWaitersError =>
  value instanceof TooManyWaitersError;

/** The caller no longer holds the lease: it lapsed and another claimer took the message over. */
export class LeaseLostError extends DedupError {
  constructor(
    readonly id: string,
    readonly owner: string | undefined,
  ) {
    super(
      'DEDUP_LEASE_LOST',
      409,
      `lease on "${id}" was lost${owner ? ` to ${owner}` : ''}; another consumer may be processing it`,
    );
  }
}

export const isLeaseLostError = (value: unknown): value is LeaseLostError => value instanceof LeaseLostError;

/** The deduplicator was closed; no new claims or waits are accepted. */
export class DedupClosedError extends DedupError {
  constructor() {
    super('DEDUP_CLOSED', 503, 'the Deduplicator is closed');
  }
}

export const isDedupClosedError = (value: unknown): value is DedupClosedError =>
  value instanceof DedupClosedError;
