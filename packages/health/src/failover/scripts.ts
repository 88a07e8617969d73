import { createHash } from 'node:crypto';

/** The narrow client the coordinator needs: an ioredis `Redis` or `Cluster` satisfies it. */
export interface FailoverRedis {
  call(command: string, ...args: (string | number)[]): Promise<unknown>;
}

export interface Script {
  readonly source: string;
  readonly sha: string;
}

export function script(source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

/** EVALSHA, loading the script with EVAL only when the server answers NOSCRIPT. */
export async function run(
  redis: FailoverRedis,
  s: Script,
  keys: string[],
  args: (string | number)[],
): Promise<unknown> {
  try {
    return await redis.call('EVALSHA', s.sha, keys.length, ...keys, ...args);
  } catch (err) {
    if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
    return redis.call('EVAL', s.source, keys.length, ...keys, ...args);
  }
}
