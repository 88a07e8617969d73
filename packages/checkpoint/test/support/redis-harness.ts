import type { Cluster, Redis } from 'ioredis';
import { CheckpointStore } from '../../src/index.js';
import type { Harness } from './harness.js';

export const namespace = 'cxkit:checkpoint:test';
/** The session hash, as the store names it. */
export const sessionKey = (sessionId: string) => `${namespace}:{${sessionId}}`;

/** Conformance harness over two Redis connections (single node or Cluster): same store, two clients. */
export function redisHarness(client: Redis | Cluster, second: Redis | Cluster): Harness {
  return {
    store: (schema, options) => new CheckpointStore({ redis: client, schema, namespace, ...options }),
    otherStore: (schema, options) => new CheckpointStore({ redis: second, schema, namespace, ...options }),
    corrupt: async (sessionId, raw) => {
      // The latest is stored twice (`cur` and `r:<rev>`, see save-1.lua): both are replaced.
      const key = sessionKey(sessionId);
      const meta = await client.hget(key, 'm');
      await client.hset(key, 'cur', raw, `r:${meta?.split(' ')[0]}`, raw);
    },
    rawLatest: async (sessionId) => (await client.hget(sessionKey(sessionId), 'cur')) ?? undefined,
  };
}
