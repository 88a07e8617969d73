import { setTimeout as sleep } from 'node:timers/promises';
import { type RedisNodes, startRedisCluster, startRedisNodes } from '@cxkit/testkit';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, FailoverCoordinator, type FailoverDecision, HealthMonitor } from '../src/index.js';

const REGIONS = ['us-east-1', 'eu-west-1', 'ap-south-1'];

describe('FailoverCoordinator', () => {
  let node: RedisNodes;
  let clients: Redis[];
  let run = 0;

  beforeAll(async () => {
    node = await startRedisNodes(1, { private: true });
    clients = REGIONS.map(() => new Redis(node.urls[0]!));
  });

  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await node.stop();
  });

  /** One coordinator per region, each on its own connection, in a fresh namespace. */
  function regions(ttlMs = 15_000) {
    const namespace = `failover-test-${++run}`;
    return REGIONS.map(
      (region, i) =>
        new FailoverCoordinator({ redis: clients[i]!, region, regions: REGIONS, ttlMs, namespace }),
    );
  }

  it('2 of 3 regions down: exactly one decision recorded even when both decide concurrently', async () => {
    for (let round = 0; round < 10; round++) {
      const [east, west, south] = regions();
      await Promise.all([
        east!.vote('us-east-1', true),
        west!.vote('us-east-1', false),
        south!.vote('us-east-1', false),
      ]);
      const decisions = await Promise.all([west!.decide('us-east-1'), south!.decide('us-east-1')]);
      const recorded = decisions.filter((d) => d.failover && d.recorded);
      expect(recorded).toHaveLength(1);
      for (const d of decisions) {
        expect(d).toMatchObject({
          failover: true,
          epoch: 1,
          from: 'us-east-1',
          votes: { down: 2, up: 1, missing: 0 },
        });
      }
      const [a, b] = decisions as Extract<FailoverDecision, { failover: true }>[];
      expect(a!.to).toBe(b!.to);
      expect(a!.decidedBy).toBe(a!.to);
      expect(await east!.leader()).toEqual({ epoch: 1, primary: a!.to, decidedBy: a!.to });
      // Asking again about the old primary returns the same decision and records nothing new.
      const again = await east!.decide('us-east-1', { candidate: 'eu-west-1' });
      expect(again).toMatchObject({ failover: true, recorded: false, epoch: 1, to: a!.to });
    }
  });

  it('1 of 3 regions down: no failover and nothing recorded', async () => {
    const [east, west, south] = regions();
    await Promise.all([
      east!.vote('us-east-1', true),
      west!.vote('us-east-1', false),
      south!.vote('us-east-1', true),
    ]);
    const decision = await west!.decide('us-east-1');
    expect(decision).toEqual({
      failover: false,
      reason: 'no-majority',
      epoch: 0,
      primary: 'us-east-1',
      votes: { down: 1, up: 2, missing: 0 },
    });
    expect(await west!.leader()).toBeUndefined();
  });

  it('a majority is of all configured regions, and votes expire by Redis time', async () => {
    const [, west, south] = regions(1_500);
    await west!.vote('us-east-1', false);
    // One live vote of three is no majority, even with nobody voting up.
    expect(await west!.decide('us-east-1')).toMatchObject({
      failover: false,
      votes: { down: 1, missing: 2 },
    });
    await south!.vote('us-east-1', false);
    await sleep(1_700);
    expect(await south!.decide('us-east-1')).toMatchObject({
      failover: false,
      reason: 'no-majority',
      votes: { down: 0, up: 0, missing: 3 },
    });
  });

  it('epochs advance one failover at a time', async () => {
    const [east, west, south] = regions();
    await Promise.all([west!.vote('us-east-1', false), south!.vote('us-east-1', false)]);
    const first = await west!.decide('us-east-1');
    expect(first).toMatchObject({ recorded: true, epoch: 1, to: 'eu-west-1' });
    await Promise.all([east!.vote('eu-west-1', false), south!.vote('eu-west-1', false)]);
    const second = await south!.decide('eu-west-1');
    expect(second).toMatchObject({ recorded: true, epoch: 2, from: 'eu-west-1', to: 'ap-south-1' });
    expect(await east!.leader()).toMatchObject({ epoch: 2, primary: 'ap-south-1' });
  });

  it('publishes votes from a monitor round', async () => {
    const [, west, south] = regions();
    let primaryUp = false;
    const monitor = new HealthMonitor({
      checks: { primary_region: () => ({ status: primaryUp ? 'healthy' : 'unhealthy' }) },
    });
    const off = west!.publishFrom(monitor, 'us-east-1');
    await monitor.check();
    await south!.vote('us-east-1', false);
    await sleep(50);
    expect(await south!.decide('us-east-1')).toMatchObject({
      failover: true,
      recorded: true,
      to: 'ap-south-1',
    });
    off();
    primaryUp = true;
    await monitor.close();
  });

  it('a draining monitor does not vote the primary down (its own shutdown is not the primary failing)', async () => {
    const [, west, south] = regions();
    const monitor = new HealthMonitor({ checks: { primary_region: () => ({ status: 'healthy' }) } });
    const off = west!.publishFrom(monitor, 'us-east-1');
    monitor.drain();
    await monitor.check();
    await south!.vote('us-east-1', false);
    await sleep(50);
    // Only south's vote is down (west did not vote): no majority, no failover.
    expect(await south!.decide('us-east-1')).toMatchObject({ failover: false, votes: { down: 1, up: 0 } });
    off();
    await monitor.close();
  });

  it('validates regions before writing anything', async () => {
    const [east] = regions();
    const before = await clients[0]!.dbsize();
    await expect(east!.vote('mars-1', false)).rejects.toThrow(ConfigError);
    await expect(east!.decide('us-east-1', { candidate: 'us-east-1' })).rejects.toThrow(/candidate/);
    expect(await clients[0]!.dbsize()).toBe(before);
    expect(() => new FailoverCoordinator({ redis: clients[0]!, region: 'x', regions: REGIONS })).toThrow(
      /FailoverCoordinator\.region/,
    );
    expect(() => new FailoverCoordinator({ redis: clients[0]!, region: 'a', regions: ['a', 'a'] })).toThrow(
      /unique/,
    );
  });
});

describe('FailoverCoordinator on a Redis Cluster', () => {
  it('keeps every key in one slot, so votes and the decide script work across the cluster', async () => {
    const cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 0 });
    const redis = new Cluster(cluster.startupNodes);
    redis.on('error', () => {});
    try {
      const [east, west, south] = REGIONS.map(
        (region) => new FailoverCoordinator({ redis, region, regions: REGIONS, namespace: 'cluster-test' }),
      );
      await Promise.all([
        east!.vote('us-east-1', false),
        west!.vote('us-east-1', false),
        south!.vote('us-east-1', true),
      ]);
      const decisions = await Promise.all([
        east!.decide('us-east-1', { candidate: 'ap-south-1' }),
        west!.decide('us-east-1'),
      ]);
      expect(decisions.filter((d) => d.failover && d.recorded)).toHaveLength(1);
      expect(new Set(decisions.map((d) => (d.failover ? d.to : 'none'))).size).toBe(1);
      expect(await south!.leader()).toMatchObject({ epoch: 1 });
    } finally {
      redis.disconnect();
      await cluster.stop();
    }
  });
});
