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
  /** When present (ioredis `Redis`), calls made in the same tick leave in one pipeline. */
  pipeline?(): PipelineLike;
  /** ioredis `Cluster` sets it: its pipelines must stay in one slot, so calls go one by one. */
  isCluster?: boolean;
}

/** The part of an ioredis pipeline the store uses. */
export interface PipelineLike {
  evalsha(sha: string, numKeys: number, ...keysAndArgs: (string | number)[]): unknown;
  hmget(key: string, ...fields: string[]): unknown;
  hgetall(key: string): unknown;
  del(...keys: string[]): unknown;
  exec(): Promise<[Error | null, unknown][] | null>;
}

export function isRedisClientLike(value: unknown): value is RedisClientLike {
  if (typeof value !== 'object' || value === null) return false;
  const c = value as Record<string, unknown>;
  return ['evalsha', 'eval', 'hmget', 'hgetall', 'del'].every((m) => typeof c[m] === 'function');
}
