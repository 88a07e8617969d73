import { Redis } from 'ioredis';
import { z } from 'zod';
import { StateCache, type StateCacheOptions, type StateCacheRedis } from '../src/index.js';

export const Agent = z.object({ state: z.string(), n: z.number().int() });
export type Agent = z.infer<typeof Agent>;

let counter = 0;
/** A unique namespace per test, so tests sharing one Redis never see each other's keys. */
export const namespace = (name: string) => `${name}-${process.pid}-${++counter}`;

/** An ioredis client as the README recommends: no offline queue, bounded reconnect backoff. */
export function client(url: string): Redis {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy: (times) => Math.min(times * 50, 300),
    lazyConnect: false,
  });
  // Fault tests kill servers on purpose; connection errors are expected and handled by the cache.
  redis.on('error', () => {});
  return redis;
}

export async function connected(redis: Redis): Promise<Redis> {
  if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
  return redis;
}

export function cache<T = Agent>(
  redis: StateCacheRedis,
  ns: string,
  extra: Partial<StateCacheOptions<T>> = {},
): StateCache<T> {
  return new StateCache<T>({
    redis,
    namespace: ns,
    commandTimeoutMs: 2_000,
    busCheckIntervalMs: 200,
    recoveryIntervalMs: 100,
    ...extra,
  });
}

/** Per-command call counts from INFO commandstats, to prove round-trip claims. */
export async function commandCalls(redis: Redis, command: string): Promise<number> {
  const info = await redis.info('commandstats');
  const m = info.match(new RegExp(`cmdstat_${command}:calls=(\\d+)`));
  return m ? Number(m[1]) : 0;
}
