import { type RedisNodes, startRedisNodes, waitUntil } from '@cxkit/testkit';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LockManager, type LockManagerOptions } from '../src/index.js';
import { scripts } from '../src/scripts.js';
import { client, quit, sleep } from './helpers.js';

// A grant that reaches a quorum node after the acquisition was decided without it, and after the lock
// it was for has ended: nothing else would release it before its TTL.

let redis: RedisNodes;
const clients: Redis[] = [];

beforeAll(async () => {
  // Nodes 0-2 are the lock's masters; 3 and 4 replicate 0 and 1 (node 2 has no replica).
  redis = await startRedisNodes(5, { private: true });
  for (const [replica, master] of [
    [3, 0],
    [4, 1],
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

  it('whose WAIT fell short (replicaAcks; node 2 has no replica) is released again too', async () => {
    // Node 2's grant comes back as a ReplicaAcksError after a WAIT timeout (100-200 ms) for the
    // acquire and one for its EVAL.
    const { m, own } = manager({ replicaAcks: 1, replicaAckTimeoutMs: 100 });
    try {
      const token = await grantBehindRelease(m, own, 'late-acks');
      await sleep(800);
      expect(await heldOnNode2('late-acks', token)).toBe(false);
    } finally {
      await m.close();
    }
  });
});
