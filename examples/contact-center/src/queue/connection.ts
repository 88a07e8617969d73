import { Redis } from 'ioredis';

/**
 * A dedicated connection for BullMQ (it needs `maxRetriesPerRequest: null` and blocks on BRPOPLPUSH-like
 * commands), kept apart from the connections the request path uses. A producer on the request path (a
 * region enqueueing) passes `commandTimeoutMs`, so an unanswering node fails the enqueue instead of
 * hanging the request; workers must not (their blocking reads wait on purpose).
 */
export function queueConnection(url: string, commandTimeoutMs?: number): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    lazyConnect: false,
    ...(commandTimeoutMs !== undefined ? { commandTimeout: commandTimeoutMs } : {}),
  });
}
