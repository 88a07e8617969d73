import { type RedisNodes, startRedisNodes } from '@cxkit/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { CheckpointStore } from '../src/index.js';
import { conformance } from './support/conformance.js';
import type { Harness } from './support/harness.js';

let nodes: RedisNodes;
let client: Redis;
const namespace = 'cxkit:checkpoint:test';
const key = (sessionId: string) => `${namespace}:{${sessionId}}`;

beforeAll(async () => {
  nodes = await startRedisNodes(1, { private: true });
  client = new Redis(nodes.urls[0]!, { maxRetriesPerRequest: 3 });
});

afterAll(async () => {
  client?.disconnect();
  await nodes?.stop();
});

conformance(
  'single Redis',
  (): Harness => ({
    store: (schema, options) => new CheckpointStore({ redis: client, schema, namespace, ...options }),
    corrupt: async (sessionId, raw) => {
      await client.hset(key(sessionId), 'cur', raw);
    },
    rawLatest: async (sessionId) => (await client.hget(key(sessionId), 'cur')) ?? undefined,
  }),
);
