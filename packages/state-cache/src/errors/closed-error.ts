import { codeGuard, StateCacheError } from './state-cache-error.js';

/** The cache was closed, or the call's AbortSignal fired. */
export class StateCacheClosedError extends StateCacheError {
  override readonly name = 'StateCacheClosedError';

  constructor(message = 'state-cache is closed', cause?: unknown) {
    super('STATE_CACHE_CLOSED', message, { status: 503, cause });
  }
}

export const isStateCacheClosedError = codeGuard('STATE_CACHE_CLOSED') as (
  err: unknown,
) => err is StateCacheClosedError;
