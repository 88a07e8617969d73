import { type RedisNodes, startRedisNodes } from '@cxkit/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointStore, isRevisionConflictError } from '../src/index.js';
import { conformance } from './support/conformance.js';
import { namespace, redisHarness } from './support/redis-harness.js';
import { seedVariables, v3 } from './support/schemas.js';

let nodes: RedisNodes;
let client: Redis;
let second: Redis;

beforeAll(async () => {
  nodes = await startRedisNodes(1, { private: true });
  client = new Redis(nodes.urls[0]!, { maxRetriesPerRequest: 3 });
  second = new Redis(nodes.urls[0]!, { maxRetriesPerRequest: 3 });
});

afterAll(async () => {
  client?.disconnect();
  second?.disconnect();
  await nodes?.stop();
});

conformance('single Redis', () => redisHarness(client, second));

describe('region handoff on one Redis', () => {
  it('region B resumes from the revision region A saved after A loses its connection', async () => {
    const regionA = new Redis(nodes.urls[0]!, { connectionName: 'region-a', maxRetriesPerRequest: 0 });
    const storeA = new CheckpointStore({ redis: regionA, schema: v3, namespace });
    const sessionId = 'session_handoff_1';
    const saved = [];
    for (let i = 0; i < 4; i++) {
      saved.push(
        await storeA.save(sessionId, {
          region: 'eu-west-1',
          flowVersion: '12',
          variables: { ...seedVariables, retry_count: i },
        }),
      );
    }
    // The server side drops A's connection, as a partition would; A stops reconnecting.
    expect(Number(await client.client('KILL', 'USER', 'default', 'SKIPME', 'yes'))).toBeGreaterThanOrEqual(0);
    regionA.disconnect();
    const regionB = new Redis(nodes.urls[0]!, { connectionName: 'region-b' });
    try {
      const storeB = new CheckpointStore({ redis: regionB, schema: v3, namespace });
      const latest = await storeB.latest(sessionId);
      expect(latest.status).toBe('restored');
      if (latest.status !== 'restored') return;
      expect(latest.checkpoint.revision).toBe(saved.at(-1)!.revision);
      expect(latest.checkpoint.checkpointId).toBe(saved.at(-1)!.checkpointId);
      const next = await storeB.save(sessionId, {
        region: 'eu-central-1',
        flowVersion: '12',
        variables: latest.checkpoint.variables,
        expectedRevision: latest.checkpoint.revision,
      });
      expect(next.revision).toBe(5);
      // A late write from A, based on what A last saw, is refused instead of undoing B's progress.
      const lateA = new CheckpointStore({ redis: client, schema: v3, namespace });
      const err = await lateA
        .save(sessionId, {
          region: 'eu-west-1',
          flowVersion: '12',
          variables: seedVariables,
          expectedRevision: 4,
        })
        .catch((e) => e);
      expect(isRevisionConflictError(err)).toBe(true);
    } finally {
      regionB.disconnect();
    }
  });
});
