import { type RedisCluster, type RedisNode, startRedisCluster } from '@cxkit/testkit';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LockManager } from '../src/index.js';
import { sleep } from './helpers.js';

// A write with replicaAcks travels as a pipeline (script, then WAIT), which ioredis does not redirect on
// its own: these tests move a lock's slot between masters while it is used.
let cluster: RedisCluster;
let ioCluster: Cluster;

beforeAll(async () => {
  cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 });
  ioCluster = new Cluster(cluster.startupNodes, { redisOptions: { maxRetriesPerRequest: 2 } });
});

afterAll(async () => {
  await ioCluster?.quit().catch(() => ioCluster.disconnect());
  await cluster?.stop();
});

/** GET on one node, on a connection that says `READONLY` (a replica) or `ASKING` (an importing master) first. */
async function read(node: RedisNode, key: string, mode: 'readonly' | 'asking'): Promise<string | null> {
  const r = new Redis({ host: '127.0.0.1', port: node.port, lazyConnect: true });
  try {
    const replies = await r.pipeline().call(mode).get(key).exec();
    return replies![1]![1] as string | null;
  } finally {
    r.disconnect();
  }
}

const idOf = async (node: RedisNode) => String(await node.command('CLUSTER', 'MYID'));

/** Puts the slot of `key` in migration from its master to another one; `finish` hands it over. */
async function migrate(key: string) {
  const slot = Number(await cluster.nodes[0]!.command('CLUSTER', 'KEYSLOT', key));
  const source = await cluster.masterForSlot(slot);
  const masters = await cluster.masters();
  const target = masters.find((m) => m.port !== source.port)!;
  const [sourceId, targetId] = [await idOf(source), await idOf(target)];
  await target.command('CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', sourceId);
  await source.command('CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', targetId);
  return {
    slot,
    source,
    target,
    /** Moves `keys` (all of them, or none) to the target, as a resharding tool does between the two steps. */
    move: (...keys: string[]) =>
      source.command('MIGRATE', '127.0.0.1', String(target.port), '', '0', '5000', 'KEYS', ...keys),
    finish: async () => {
      for (const m of [target, source, ...masters.filter((n) => n !== target && n !== source)]) {
        await m.command('CLUSTER', 'SETSLOT', String(slot), 'NODE', targetId);
      }
      await cluster.waitHealthy();
    },
  };
}

/** A manager whose writes wait for one replica, with time to ride out a short migration. */
const waitingForReplica = () =>
  new LockManager({ nodes: ioCluster, replicaAcks: 1, replicaAckTimeoutMs: 1_000, requestTimeoutMs: 3_000 });

describe('Cluster slot migration with replicaAcks', () => {
  it('an acquire while the slot migrates waits for the move (TRYAGAIN) and lands on the new master and its replica', async () => {
    const manager = waitingForReplica();
    try {
      const key = 'cxkit:locks:{moving:a}';
      const slot = await migrate(key);
      const started = performance.now();
      const pending = manager.acquire('moving:a', { heartbeat: false });
      await sleep(400);
      await slot.finish();
      const lock = await pending;
      expect(performance.now() - started).toBeGreaterThanOrEqual(400);
      expect((await slot.target.command('GET', key)).split(' ')[2]).toBe(lock.token);
      const [replica] = await cluster.replicasOf(slot.target);
      expect((await read(replica!, key, 'readonly'))?.split(' ')[2]).toBe(lock.token);
      expect(await lock.release()).toEqual({ released: true });
    } finally {
      await manager.close();
    }
  });

  it('a heartbeat whose record already moved to the importing master waits out the migration (ASK, then TRYAGAIN)', async () => {
    const manager = waitingForReplica();
    try {
      const key = 'cxkit:locks:{moving:b}';
      const lock = await manager.acquire('moving:b', { heartbeat: false, ttlMs: 20_000 });
      const slot = await migrate(key);
      await slot.move(key);
      expect(await slot.source.command('CLUSTER', 'COUNTKEYSINSLOT', String(slot.slot))).toBe('0');
      const started = performance.now();
      const extended = lock.extend(30_000);
      await sleep(300);
      await slot.finish();
      expect(await extended).toBeGreaterThan(Date.now() + 10_000);
      expect(performance.now() - started).toBeGreaterThanOrEqual(300);
      const expires = Number((await slot.target.command('GET', key)).split(' ')[0]);
      expect(expires).toBeGreaterThan(Date.now() + 25_000);
    } finally {
      await manager.close();
    }
  });

  it('a heartbeat whose keys all moved is run by the importing master after ASKING', async () => {
    const manager = waitingForReplica();
    try {
      const [key, marker] = ['cxkit:locks:{moving:c}', 'cxkit:locks:{moving:c}:marker'];
      // The heartbeat names the record and the marker (unused in a Cluster, so absent): with one key
      // missing the importing master would answer TRYAGAIN, so both exist and move here.
      await ioCluster.set(marker, 'planted');
      const lock = await manager.acquire('moving:c', { heartbeat: false, ttlMs: 20_000 });
      const slot = await migrate(key);
      await slot.move(key, marker);
      expect(await lock.extend(30_000)).toBeGreaterThan(Date.now() + 10_000);
      const expires = Number((await read(slot.target, key, 'asking'))?.split(' ')[0]);
      expect(expires).toBeGreaterThan(Date.now() + 25_000);
      await slot.finish();
      expect(await lock.release()).toEqual({ released: true });
    } finally {
      await manager.close();
    }
  });
});
