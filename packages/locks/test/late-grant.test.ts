import { type RedisNodes, startRedisNodes, waitUntil } from '@cxkit/testkit';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LockManager } from '../src/index.js';
import { scripts } from '../src/scripts.js';
import { client, quit, sleep } from './helpers.js';

// A grant that reaches a quorum node after the acquisition was decided without it, and after the lock
// it was for has ended: nothing else would release it before its TTL.

let redis: RedisNodes;
const clients: Redis[] = [];

beforeAll(async () => {
  redis = await startRedisNodes(3, { private: true });
});

afterAll(async () => {
  await Promise.all(redis.nodes.map((n) => n.resume()));
  await quit(clients);
  await redis.stop();
});

describe('a late grant', () => {
  it('retried after NOSCRIPT behind the release of its lock is released again', async () => {
    const own = redis.urls.map(client);
    clients.push(...own);
    const m = new LockManager({ nodes: own, fanout: 'all', amnesiaGuard: false, requestTimeoutMs: 2_000 });
    try {
      await (await m.acquire('late:warm', { heartbeat: false })).release();
      // Node 2 lost its scripts (a restart, SCRIPT FLUSH) but for the release script, and is paused:
      // the lock is granted and released by nodes 0 and 1; on resume node 2 answers the acquire with
      // NOSCRIPT, runs the release (nothing to release), then the acquire's EVAL grants.
      await own[2]!.script('FLUSH');
      await own[2]!.script('LOAD', scripts.release.source);
      await redis.nodes[2]!.pause();
      const lock = await m.acquire('late', { heartbeat: false, ttlMs: 10_000 });
      expect(await lock.release()).toEqual({ released: true });
      await sleep(50);
      await redis.nodes[2]!.resume();
      // Record: "<expires> <high-water fence> <token> ..." while held, "0 <high-water fence>" released.
      await waitUntil(
        'node 2 answered',
        async () => (await m.inspect('late')).nodes[2]!.reachable,
        3_000,
        20,
      );
      await sleep(300);
      const raw = client(redis.urls[2]!);
      clients.push(raw);
      expect((await raw.get('cxkit:locks:{late}'))?.split(' ')[2]).not.toBe(lock.token);
    } finally {
      await m.close();
    }
  });
});
