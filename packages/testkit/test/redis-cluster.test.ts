import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseInfo, type RedisCluster, startRedisCluster } from '../src/index.js';

describe('startRedisCluster', () => {
  let cluster: RedisCluster;
  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 });
  });
  afterAll(() => cluster?.stop());

  it('forms 3 masters + 3 replicas reporting cluster_state:ok', async () => {
    expect(cluster.nodes).toHaveLength(6);
    const masters = await cluster.masters();
    expect(masters).toHaveLength(3);
    for (const master of masters) expect(await cluster.replicasOf(master)).toHaveLength(1);
    for (const node of cluster.nodes) {
      expect(parseInfo(await node.command('CLUSTER', 'INFO')).cluster_state).toBe('ok');
    }
  });

  it('serves writes through an ioredis Cluster and keeps them across failover()', async () => {
    const client = new Cluster(cluster.startupNodes);
    try {
      const keys = Array.from({ length: 30 }, (_, i) => `key:${i}`);
      for (const key of keys) await client.set(key, key);
      for (const master of await cluster.masters()) await master.command('WAIT', '1', '2000');
      const slot0Owner = await cluster.masterForSlot(0);
      const promoted = await cluster.failover(0);
      expect(promoted.port).not.toBe(slot0Owner.port);
      expect((await cluster.masterForSlot(0)).port).toBe(promoted.port);
      expect(parseInfo(await slot0Owner.command('INFO', 'replication')).role).toBe('slave');
      for (const key of keys) expect(await client.get(key)).toBe(key);
      await client.set('after-failover', '1');
      expect(await client.get('after-failover')).toBe('1');
    } finally {
      client.disconnect();
    }
  });
});
