import { type RedisCluster, startRedisCluster, waitUntil } from '@cxkit/testkit';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointStore, isStaleFenceError } from '../src/index.js';
import { conformance } from './support/conformance.js';
import { sessionKey as key, namespace, redisHarness } from './support/redis-harness.js';
import { seedVariables, v3 } from './support/schemas.js';

let cluster: RedisCluster;
let client: Cluster;
let second: Cluster;
const clusterClient = () =>
  new Cluster(cluster.startupNodes, {
    // Re-reads the topology after a failover instead of sending to the demoted master.
    clusterRetryStrategy: (times) => Math.min(100 * times, 1_000),
    redisOptions: { maxRetriesPerRequest: 5 },
  });

beforeAll(async () => {
  cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 });
  client = clusterClient();
  second = clusterClient();
});

afterAll(async () => {
  client?.disconnect();
  second?.disconnect();
  await cluster?.stop();
});

conformance('Redis Cluster 3+3', () => redisHarness(client, second));

describe('region failover on a Cluster', () => {
  it('region B resumes from the right revision after A is cut off and the slot master fails over', async () => {
    const regionA = clusterClient();
    const storeA = new CheckpointStore({ redis: regionA, schema: v3, namespace });
    const sessionId = 'session_8f4a2c91-e5b7-4d3a-9c12-7f8e3b2a1d00';
    for (let i = 0; i < 3; i++) {
      await storeA.save(sessionId, {
        region: 'us-east-1',
        flowVersion: '12',
        variables: { ...seedVariables, retry_count: i },
        fence: 1,
      });
    }
    // Region A loses its connection for good.
    regionA.disconnect();
    const slot = Number(await client.cluster('KEYSLOT', key(sessionId)));
    const owner = await cluster.masterForSlot(slot);
    const index = (await cluster.masters()).findIndex((m) => m.port === owner.port);
    const promoted = await cluster.failover(index);
    expect(promoted.port).not.toBe(owner.port);
    // Every node agrees on the new owner before region B connects (gossip takes a moment).
    await waitUntil(
      'slot owner moved',
      async () => (await cluster.masterForSlot(slot)).port === promoted.port,
    );

    const regionB = clusterClient();
    try {
      const storeB = new CheckpointStore({ redis: regionB, schema: v3, namespace });
      const latest = await storeB.latest(sessionId);
      expect(latest.status).toBe('restored');
      if (latest.status !== 'restored') return;
      expect(latest.checkpoint.revision).toBe(3);
      expect(latest.checkpoint.region).toBe('us-east-1');
      expect(latest.checkpoint.variables.retry_count).toBe(2);
      const resumed = await storeB.save(sessionId, {
        region: 'us-west-2',
        flowVersion: '12',
        variables: { ...latest.checkpoint.variables, retry_count: 3 },
        expectedRevision: latest.checkpoint.revision,
        fence: 2,
      });
      expect(resumed.revision).toBe(4);
      // Region A comes back with its old lock: its late write is fenced off.
      const lateClient = clusterClient();
      try {
        const lateA = new CheckpointStore({ redis: lateClient, schema: v3, namespace });
        const err = await lateA
          .save(sessionId, { region: 'us-east-1', flowVersion: '12', variables: seedVariables, fence: 1 })
          .catch((e) => e);
        expect(isStaleFenceError(err)).toBe(true);
      } finally {
        lateClient.disconnect();
      }
      const history = await storeB.history(sessionId);
      expect(history.map((h) => (h.status === 'restored' ? h.checkpoint.region : '?'))).toEqual([
        'us-west-2',
        'us-east-1',
        'us-east-1',
        'us-east-1',
      ]);
    } finally {
      regionB.disconnect();
    }
  });
});
