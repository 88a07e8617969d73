/**
 * The few commands the Redis store uses: an ioredis `Redis` or `Cluster` fits as is. All keys of one
 * session share the `{sessionId}` hash tag, so a Cluster routes each call to one slot.
 */
export interface RedisClientLike {
  evalsha(sha: string, numKeys: number, ...keysAndArgs: (string | number)[]): Promise<unknown>;
  eval(script: string, numKeys: number, ...keysAndArgs: (string | number)[]): Promise<unknown>;
  hmget(key: string, ...fields: string[]): Promise<(string | null)[]>;
  hgetall(key: string): Promise<Record<string, string>>;
  del(...keys: string[]): Promise<number>;
}

export function isRedisClientLike(value: unknown): value is RedisClientLike {
  if (typeof value !== 'object' || value === null) return false;
  const c = value as Record<string, unknown>;
  return ['evalsha', 'eval', 'hmget', 'hgetall', 'del'].every((m) => typeof c[m] === 'function');
}
