import { createHash } from 'node:crypto';
import type { RedisClientLike } from './client.js';

/**
 * A Lua script called by SHA, with the full text sent once when the server answers NOSCRIPT. Scripts
 * are addressed by their content hash, so two library versions sharing a server never collide.
 */
export class Script {
  readonly sha: string;

  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(client: RedisClientLike, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await client.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (err) {
      // A restarted or failed-over node has an empty script cache; EVAL loads it there again.
      if (!String((err as Error)?.message).includes('NOSCRIPT')) throw err;
      return client.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}
