import { type RedisNodes, startRedisNodes, waitUntil } from '@cxkit/testkit';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLockLostError, LockManager, type LockManagerOptions } from '../src/index.js';
import { scripts } from '../src/scripts.js';
import { client, quit, sleep } from './helpers.js';

// Where a lock's record may be when replies come late, fall short of replicaAcks or fail: a grant that
// lands after its lock ended must be released again, and a node whose write may have landed must
// count as holding the record, so that losing it there is noticed.

let redis: RedisNodes;
const clients: Redis[] = [];

beforeAll(async () => {
  // Nodes 0-2 are the lock's masters; 3, 4 and 5 replicate 0, 1 and 2.
  redis = await startRedisNodes(6, { private: true });
  for (const [replica, master] of [
    [3, 0],
    [4, 1],
    [5, 2],
  ] as const) {
    const c = client(redis.urls[replica]!);
    clients.push(c);
    await c.replicaof('127.0.0.1', redis.nodes[master]!.port);
    await waitUntil('replica in sync', async () => /master_link_status:up/.test(await c.info('replication')));
  }
});

afterAll(async () => {
  await Promise.all(redis.nodes.map((n) => n.resume()));
  await quit(clients);
  await redis.stop();
});

/** Waits until master `index`'s replica acknowledges a write again (WAIT answers 1). */
async function replicaAcknowledges(index: number): Promise<void> {
  const c = client(redis.urls[index]!);
  clients.push(c);
  await waitUntil(`replica of node ${index} acknowledges`, async () => {
    await c.set('cxkit:test:ack', '1');
    return (await c.wait(1, 500)) >= 1;
  });
}

/** A manager on nodes 0-2 over connections of its own. */
function manager(options: Partial<LockManagerOptions> = {}): { m: LockManager; own: Redis[] } {
  const own = redis.urls.slice(0, 3).map(client);
  clients.push(...own);
  const m = new LockManager({
    nodes: own,
    fanout: 'all',
    amnesiaGuard: false,
    requestTimeoutMs: 2_000,
    ...options,
  });
  return { m, own };
}

/**
 * Node 2 lost its scripts (a restart, SCRIPT FLUSH) but for the release script, and is paused: the lock
 * is granted and released by nodes 0 and 1; on resume node 2 answers the acquire with NOSCRIPT, runs
 * the release (nothing to release yet), then the acquire's EVAL grants. Resolves with the lock's token.
 */
async function grantBehindRelease(m: LockManager, own: Redis[], resource: string): Promise<string> {
  await (await m.acquire(`${resource}:warm`, { heartbeat: false })).release();
  await own[2]!.script('FLUSH');
  await own[2]!.script('LOAD', scripts.release.source);
  await redis.nodes[2]!.pause();
  try {
    const lock = await m.acquire(resource, { heartbeat: false, ttlMs: 10_000 });
    expect(await lock.release()).toEqual({ released: true });
    await sleep(50);
    return lock.token;
  } finally {
    await redis.nodes[2]!.resume();
  }
}

/** Whether node 2's record of `resource` names `token` as its holder. */
async function heldOnNode2(resource: string, token: string): Promise<boolean> {
  const raw = client(redis.urls[2]!);
  clients.push(raw);
  // Record: "<expires> <high-water fence> <token> ..." while held, "0 <high-water fence>" released.
  return (await raw.get(`cxkit:locks:{${resource}}`))?.split(' ')[2] === token;
}

describe('a late grant', () => {
  it('retried after NOSCRIPT behind the release of its lock is released again', async () => {
    const { m, own } = manager();
    try {
      const token = await grantBehindRelease(m, own, 'late');
      await waitUntil(
        'node 2 answered',
        async () => (await m.inspect('late')).nodes[2]!.reachable,
        3_000,
        20,
      );
      await sleep(300);
      expect(await heldOnNode2('late', token)).toBe(false);
    } finally {
      await m.close();
    }
  });

  it("whose WAIT fell short (replicaAcks; node 2's replica paused) is released again too", async () => {
    // Node 2's grant comes back as a ReplicaAcksError after a WAIT timeout (100-200 ms) for the
    // acquire and one for its EVAL.
    const { m, own } = manager({ replicaAcks: 1, replicaAckTimeoutMs: 100 });
    await redis.nodes[5]!.pause();
    try {
      const token = await grantBehindRelease(m, own, 'late-acks');
      await sleep(800);
      expect(await heldOnNode2('late-acks', token)).toBe(false);
    } finally {
      await redis.nodes[5]!.resume();
      await m.close();
    }
  });
});

describe('a node whose write may have landed', () => {
  it("counts as holding the record: a spread whose WAIT fell short, then the record lost there and on a wave node, loses the lock as 'expired'", async () => {
    // Quorum 2 of 3: the wave asks nodes 0 and 1, the spread writes node 2 100 ms later.
    const { m, own } = manager({
      fanout: 'quorum',
      replicaAcks: 1,
      replicaAckTimeoutMs: 100,
      requestTimeoutMs: 600,
    });
    try {
      await (await m.acquire('spread-acks:warm', { heartbeat: false })).release();
      await redis.nodes[5]!.pause();
      let lock: Awaited<ReturnType<LockManager['acquire']>>;
      try {
        lock = await m.acquire('spread-acks', { heartbeat: false, ttlMs: 10_000 });
        // The spread's write lands on node 2; its WAIT falls short.
        await sleep(500);
      } finally {
        await redis.nodes[5]!.resume();
      }
      // The extension below must be decided by its re-claims, not by a WAIT of node 2 falling short
      // while its replica still catches up after the pause (a loaded machine).
      await replicaAcknowledges(2);
      expect(await heldOnNode2('spread-acks', lock.token)).toBe(true);
      // The record is lost on nodes 0 and 2 (a failover to a lagging replica, an eviction): a quorum
      // of nodes no longer holds it, so another owner could have taken it.
      await Promise.all([0, 2].map((i) => own[i]!.del('cxkit:locks:{spread-acks}')));
      await redis.nodes[1]!.pause();
      try {
        const err = await lock.extend().catch((e: unknown) => e);
        // On failure, what extend() gave instead (a node's outcome says which vote went missing).
        expect(isLockLostError(err) && err.reason, String(err)).toBe('expired');
        expect(lock.signal.aborted).toBe(true);
      } finally {
        await redis.nodes[1]!.resume();
      }
    } finally {
      await m.close();
    }
  });

  it('counts as holding the record while its write is in flight: a heartbeat that starts meanwhile notices the record lost there', async () => {
    // The spread's write to node 2 lands, then its WAIT blocks the connection (node 2's replica is
    // paused) while the record is lost on nodes 0 and 2 and extend() starts.
    const { m } = manager({
      fanout: 'quorum',
      replicaAcks: 1,
      replicaAckTimeoutMs: 1_000,
      requestTimeoutMs: 2_500,
    });
    const raw = [0, 2].map((i) => client(redis.urls[i]!));
    clients.push(...raw);
    try {
      await (await m.acquire('in-flight:warm', { heartbeat: false })).release();
      await redis.nodes[5]!.pause();
      let extending: Promise<unknown>;
      try {
        const lock = await m.acquire('in-flight', { heartbeat: false, ttlMs: 10_000 });
        await sleep(150);
        await Promise.all(raw.map((c) => c.del('cxkit:locks:{in-flight}')));
        await redis.nodes[1]!.pause();
        extending = lock.extend().catch((e: unknown) => e);
      } finally {
        await redis.nodes[5]!.resume();
      }
      const err = await extending;
      await redis.nodes[1]!.resume();
      expect(isLockLostError(err) && err.reason).toBe('expired');
    } finally {
      await Promise.all([1, 5].map((i) => redis.nodes[i]!.resume()));
      await m.close();
    }
  });
});
