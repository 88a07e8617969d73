import { Redis } from 'ioredis';

/**
 * A dedicated connection for BullMQ (it needs `maxRetriesPerRequest: null` and blocks on BRPOPLPUSH-like
 * commands), kept apart from the connections the request path uses.
 */
export function queueConnection(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false });
}
