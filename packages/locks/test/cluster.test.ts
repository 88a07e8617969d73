import { type RedisCluster, type RedisNodes, startRedisCluster, startRedisNodes } from '@cxkit/testkit';
import { Cluster, type Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLockConflictError, isQuorumUnavailableError, type LockEvents, LockManager } from '../src/index.js';
import { keySlot } from '../src/key-slot.js';
import { client, quit, sleep } from './helpers.js';

let cluster: RedisCluster;
let nodes: RedisNodes;
let ioCluster: Cluster;
const clients: Redis[] = [];

beforeAll(async () => {
  [cluster, nodes] = await Promise.all([
    startRedisCluster({ masters: 3, replicasPerMaster: 1 }),
    // node 0: a plain master with no replica; node 1: a server that does not know WAIT.
    Promise.all([
      startRedisNodes(1, { private: true }),
      startRedisNodes(1, { private: true, args: ['--rename-command', 'WAIT', ''] }),
    ]).then(([a, b]) => ({
      nodes: [...a.nodes, ...b.nodes],
      urls: [...a.urls, ...b.urls],
      stop: async () => {
        await Promise.all([a.stop(), b.stop()]);
      },
      [Symbol.asyncDispose]: async () => {},
    })),
  ]);
  ioCluster = new Cluster(cluster.startupNodes, { redisOptions: { maxRetriesPerRequest: 2 } });
});

afterAll(async () => {
  await ioCluster?.quit().catch(() => ioCluster.disconnect());
  await quit(clients);
  await Promise.all([cluster?.stop(), nodes?.stop()]);
});

describe('Cluster mode with replicaAcks', () => {
  it('a lock held on a master survives failover() of that master: the promoted replica still holds it', async () => {
    const manager = new LockManager({
      nodes: ioCluster,
      replicaAcks: 1,
      region: 'us-east-1',
      heartbeatIntervalMs: 500,
      requestTimeoutMs: 3_000,
      replicaAckTimeoutMs: 1_000,
    });
    const contender = new LockManager({ nodes: ioCluster, region: 'eu-west-1' });
    try {
      expect(manager.topology).toBe('cluster');
      const lock = await manager.acquire('cluster:session-1', { operation: 'CRM_UPDATE' });
      const key = 'cxkit:locks:{cluster:session-1}';
      const slot = Number(await cluster.nodes[0]!.command('CLUSTER', 'KEYSLOT', key));
      const owner = await cluster.masterForSlot(slot);
      const index = (await cluster.masters()).findIndex((m) => m.port === owner.port);
      const promoted = await cluster.failover(index);
      expect(promoted.port).not.toBe(owner.port);
      // Record: "<expires> <high-water fence> <token> ...".
      expect((await promoted.command('GET', key)).split(' ')[2]).toBe(lock.token);
      // The holder keeps heartbeating through the topology change.
      const until = await lock.extend();
      expect(until).toBeGreaterThan(Date.now());
      await sleep(1_200);
      expect(lock.signal.aborted).toBe(false);
      expect((await manager.inspect('cluster:session-1')).holder?.token).toBe(lock.token);
      const err = await contender.acquire('cluster:session-1').catch((e: unknown) => e);
      expect(isLockConflictError(err)).toBe(true);
      const next = [await lock.release(), await contender.acquire('cluster:session-1')];
      expect(next[0]).toEqual({ released: true });
      await (next[1] as { release(): Promise<unknown> }).release();
    } finally {
      await manager.close();
      await contender.close();
    }
  });

  it('a paused shard does not hold back the heartbeat of locks on the other shards', async () => {
    // Two resources whose records live on different masters.
    const masterOf = async (resource: string) => {
      const slot = Number(await cluster.nodes[0]!.command('CLUSTER', 'KEYSLOT', `cxkit:locks:{${resource}}`));
      return cluster.masterForSlot(slot);
    };
    const stalled = 'cluster:hb:stalled';
    const stalledMaster = await masterOf(stalled);
    let healthy = '';
    for (let i = 0; !healthy; i++) {
      if ((await masterOf(`cluster:hb:${i}`)).port !== stalledMaster.port) healthy = `cluster:hb:${i}`;
    }
    // Its round on the paused shard waits up to 3 s; the healthy lock's validity is about 0.6 s.
    const manager = new LockManager({
      nodes: ioCluster,
      heartbeatIntervalMs: 300,
      requestTimeoutMs: 3_000,
      defaultTtlMs: 700,
      staleAfterMs: 3_000,
    });
    try {
      const ok = await manager.acquire(healthy);
      await manager.acquire(stalled);
      // Shorter than the cluster's node timeout (1.5 s): no failover meanwhile.
      await stalledMaster.pause();
      try {
        await sleep(1_200);
      } finally {
        await stalledMaster.resume();
      }
      expect(ok.signal.aborted).toBe(false);
      expect(await ok.release()).toEqual({ released: true });
    } finally {
      await manager.close();
    }
  });

  it('a Semaphore works on the Cluster (all its keys in one slot)', async () => {
    const manager = new LockManager({
      nodes: ioCluster,
      replicaAcks: 1,
      replicaAckTimeoutMs: 1_000,
      requestTimeoutMs: 3_000,
    });
    try {
      const seats = manager.semaphore('cluster:seats', { limit: 2 });
      const [a, b] = [await seats.acquire(), await seats.acquire()];
      expect(b!.fence).toBeGreaterThan(a!.fence);
      expect(isLockConflictError(await seats.acquire().catch((e: unknown) => e))).toBe(true);
      expect(await a!.release()).toEqual({ released: true });
      const c = await seats.acquire();
      expect(c.fence).toBeGreaterThan(b!.fence);
      await Promise.all([b!.release(), c.release()]);
    } finally {
      await manager.close();
    }
  });

  it("a stale override in a Cluster audits to the resource's own stream, which expires after auditRetentionMs", async () => {
    const options = {
      nodes: ioCluster,
      heartbeatIntervalMs: 100,
      staleAfterMs: 400,
      auditRetentionMs: 3_600_000,
    };
    const crashed = new LockManager({ ...options, region: 'us-east-1' });
    const contender = new LockManager({ ...options, region: 'eu-west-1' });
    try {
      const dead = await crashed.acquire('cluster:stale', { heartbeat: false, ttlMs: 5_000 });
      await sleep(500);
      const lock = await contender.acquire('cluster:stale', { heartbeat: false });
      expect(lock.fence).toBeGreaterThan(dead.fence);
      const stream = 'cxkit:locks:{cluster:stale}:audit';
      const entries = await ioCluster.xrange(stream, '-', '+');
      expect(entries.at(-1)![1]).toEqual(
        expect.arrayContaining(['prevToken', dead.token, 'token', lock.token]),
      );
      const ttl = await ioCluster.pttl(stream);
      expect(ttl).toBeGreaterThan(3_600_000 - 60_000);
      expect(ttl).toBeLessThanOrEqual(3_600_000);
      await lock.release();
    } finally {
      await Promise.all([crashed.close(), contender.close()]);
    }
  });

  it('replicaAcks on a master without replicas, or a server without WAIT, fails the write and says why', async () => {
    const lonely = client(nodes.urls[0]!);
    const noWait = client(nodes.urls[1]!);
    clients.push(lonely, noWait);
    const a = new LockManager({ nodes: lonely, replicaAcks: 1, replicaAckTimeoutMs: 50 });
    const b = new LockManager({ nodes: noWait, replicaAcks: 1 });
    const unsupported: LockEvents['replica-acks-unsupported'][] = [];
    b.on('replica-acks-unsupported', (e) => unsupported.push(e));
    try {
      const errA = await a.acquire('acks').catch((e: unknown) => e);
      expect(isQuorumUnavailableError(errA)).toBe(true);
      expect(isQuorumUnavailableError(errA) && errA.nodes[0]?.outcome).toBe('replica-acks');
      const errB = await b.acquire('acks').catch((e: unknown) => e);
      expect(isQuorumUnavailableError(errB) && errB.nodes[0]?.outcome).toBe('replica-acks-unsupported');
      await b.acquire('acks').catch(() => {});
      expect(unsupported).toHaveLength(1);
      expect(unsupported[0]!.node).toBe(`127.0.0.1:${nodes.nodes[1]!.port}`);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("writes to one master share its connection's WAIT: with its replica paused, 12 writes 5 ms apart all fail as replica-acks within about two WAIT timeouts", async () => {
    const m = new LockManager({ nodes: ioCluster, replicaAcks: 1, replicaAckTimeoutMs: 100 });
    // Resources whose records live on the first master.
    const master = (await cluster.masters())[0]!;
    const [replica] = await cluster.replicasOf(master);
    const resources: string[] = [];
    for (let i = 0; resources.length < 13; i++) {
      const slot = Number(await master.command('CLUSTER', 'KEYSLOT', `cxkit:locks:{burst:${i}}`));
      if ((await cluster.masterForSlot(slot)).port === master.port) resources.push(`burst:${i}`);
    }
    await (await m.acquire(resources[12]!, { heartbeat: false })).release();
    await replica!.pause();
    try {
      // One WAIT per write, each blocking the master's connection for 100-200 ms, would answer the 12th
      // after 1.2 s or more.
      const started = performance.now();
      const pending: Promise<unknown>[] = [];
      for (const resource of resources.slice(0, 12)) {
        pending.push(m.acquire(resource, { heartbeat: false }).catch((e: unknown) => e));
        await sleep(5);
      }
      const errors = await Promise.all(pending);
      for (const err of errors)
        expect(isQuorumUnavailableError(err) && err.nodes[0]?.outcome).toBe('replica-acks');
      expect(performance.now() - started).toBeLessThan(700);
    } finally {
      await replica!.resume();
      await m.close();
    }
  });

  it("finds a key's slot as the Cluster does (hash tags, none, empty, not ASCII)", async () => {
    const keys = [
      'cxkit:locks:{a}',
      'plain-key',
      'x{}y',
      '{}{z}',
      'cxkit:locks:{réservé:ü}',
      '{a}{b}',
      'a{b',
    ];
    const master = (await cluster.masters())[0]!;
    for (const key of keys)
      expect(keySlot(key)).toBe(Number(await master.command('CLUSTER', 'KEYSLOT', key)));
  });

  it('a keyPrefix set on the Cluster client applies to waited writes too (they go to a node connection of their own)', async () => {
    const prefixed = new Cluster(cluster.startupNodes, {
      keyPrefix: 'app:',
      redisOptions: { maxRetriesPerRequest: 2 },
    });
    const m = new LockManager({ nodes: prefixed, replicaAcks: 1 });
    try {
      await (await m.acquire('prefixed:warm', { heartbeat: false })).release();
      const lock = await m.acquire('prefixed', { heartbeat: false });
      // Record: "<expires> <high-water fence> <token> ...", under the Cluster's prefix only.
      expect((await ioCluster.get('app:cxkit:locks:{prefixed}'))?.split(' ')[2]).toBe(lock.token);
      expect(await ioCluster.exists('cxkit:locks:{prefixed}')).toBe(0);
      expect((await m.inspect('prefixed')).holder?.token).toBe(lock.token);
      expect(await lock.extend()).toBeGreaterThan(Date.now());
      expect(await lock.release()).toEqual({ released: true });
    } finally {
      await m.close();
      await prefixed.quit().catch(() => prefixed.disconnect());
    }
  });
});
