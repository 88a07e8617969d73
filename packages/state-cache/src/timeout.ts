import { RedisUnavailableError } from './errors/unavailable-error.js';
import type { StateCacheRedis } from './types.js';

/**
 * Bounds a Redis call. The command may still complete later (for `apply` that is harmless: writes are
 * versioned and idempotent), but the caller never waits longer than `ms`.
 */
export function bounded<T>(operation: string, ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RedisUnavailableError(operation, 'timeout')), ms);
    timer.unref();
  });
  return Promise.race([
    promise.catch((err: unknown) => {
      throw err instanceof RedisUnavailableError ? err : new RedisUnavailableError(operation, 'error', err);
    }),
    timeout,
  ]).finally(() => clearTimeout(timer));
}

/** Fails fast instead of letting the client queue the command while it reconnects. */
export function assertConnected(redis: StateCacheRedis, operation: string): void {
  if (redis.status !== 'ready') throw new RedisUnavailableError(operation, 'disconnected');
}

/** Resolves after `ms`, or rejects when `signal` aborts. The timer never keeps the process alive. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    timer.unref();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
