import { codeGuard, StateCacheError } from './state-cache-error.js';

/**
 * Redis did not answer within `commandTimeoutMs`, or the client is not connected. For `apply()` the
 * outcome is unknown: retrying is safe because writes are versioned.
 */
export class RedisUnavailableError extends StateCacheError {
  override readonly name = 'RedisUnavailableError';
  /** What was attempted, e.g. `apply`. */
  readonly operation: string;
  /** `timeout`, `disconnected` or `error`. */
  readonly reason: 'timeout' | 'disconnected' | 'error';

  constructor(operation: string, reason: 'timeout' | 'disconnected' | 'error', cause?: unknown) {
    super('STATE_CACHE_UNAVAILABLE', `state-cache ${operation}: Redis ${reason}`, { status: 503, cause });
    this.operation = operation;
    this.reason = reason;
  }
}

export const isRedisUnavailableError = codeGuard('STATE_CACHE_UNAVAILABLE') as (
  err: unknown,
) => err is RedisUnavailableError;
