import { codeGuard, StateCacheError } from './state-cache-error.js';

/** A background rebuild failed (source error, lost lease); reported through the `error` event and retried. */
export class RebuildError extends StateCacheError {
  override readonly name = 'RebuildError';
  /** Last source offset applied before the failure. */
  readonly offset: string | undefined;

  constructor(message: string, offset: string | undefined, cause?: unknown) {
    super('STATE_CACHE_REBUILD_FAILED', message, { status: 503, cause });
    this.offset = offset;
  }
}

export const isRebuildError = codeGuard('STATE_CACHE_REBUILD_FAILED') as (
  err: unknown,
) => err is RebuildError;
