// Work still in flight when a lock ends or changes: a grant that lands while the manager closes, a
// heartbeat that re-claims after the lock's release, an extension to a shorter TTL whose reply is lost.
import { type RedisNodes, startRedisNodes, waitUntil } from '@cxkit/testkit';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { isLockConflictError, LockManager, type LockManagerOptions } from '../src/index.js';
import { scripts } from '../src/scripts.js';
import { client, quit, sleep } from './helpers.js';

let redis: RedisNodes;
const clients: Redis[] = [];
const managers: LockManager[] = [];

function manager(options: Partial<LockManagerOptions> = {}): { manager: LockManager; client: Redis } {
  const c = client(redis.urls[0]!);
  clients.push(c);
  const m = new LockManager({ nodes: c, heartbeatIntervalMs: 2_000, ...options });
  managers.push(m);
  return { manager: m, client: c };
}

beforeAll(async () => {
  redis = await startRedisNodes(1, { private: true });
});

afterAll(async () => {
  await redis.nodes[0]?.resume();
  await Promise.all(managers.map((m) => m.close()));
  await quit(clients);
  await redis.stop();
});

describe('work in flight', () => {
  it('a grant that lands while the manager closes is given back without a timer, event or log', async () => {
    const warn = vi.fn();
    const logger = { debug() {}, info() {}, warn, error() {} };
    const { manager: m } = manager({ logger });
    const lost = vi.fn();
    m.on('lost', lost);
    const pending = m.acquire('closing', { ttlMs: 300, heartbeat: false });
    await m.close();
    await expect(pending).rejects.toMatchObject({ code: 'LOCK_MANAGER_CLOSED' });
    // Past the TTL the lock would have had: its expiry timer would have fired by now.
    await sleep(500);
    expect(lost).not.toHaveBeenCalled();
    expect(warn).not.toHaveBeenCalled();
    expect((await manager().manager.inspect('closing')).holder).toBeUndefined();
  });

  it('a heartbeat retried after NOSCRIPT that runs after the release does not leave the record held', async () => {
    const { manager: m, client: c } = manager();
    const lock = await m.acquire('noscript', { ttlMs: 10_000 });
    // The script cache is empty (a restart, SCRIPT FLUSH) except for the release script: the
    // heartbeat gets NOSCRIPT, the release written behind it runs, then the heartbeat's EVAL re-claims.
    await c.script('FLUSH');
    await c.script('LOAD', scripts.release.source);
    const extending = lock.extend().catch((err: unknown) => err);
    expect(await lock.release()).toEqual({ released: true });
    await extending;
    const other = manager().manager;
    await waitUntil(
      'record released again',
      async () => (await other.inspect('noscript')).holder === undefined,
      2_000,
      20,
    );
    const next = await other.acquire('noscript').catch((err: unknown) => err);
    expect(isLockConflictError(next)).toBe(false);
    await (next as { release(): Promise<unknown> }).release();
  });

  it('an extension to a shorter TTL that gets no reply still shortens validity', async () => {
    const { manager: m } = manager({ requestTimeoutMs: 300 });
    const lock = await m.acquire('shorter', { ttlMs: 10_000, heartbeat: false });
    const node = redis.nodes[0]!;
    await node.pause();
    const asked = Date.now();
    try {
      // The call waits on the paused node and runs, writing the 1 s TTL, once it resumes.
      await expect(lock.extend(1_000)).rejects.toMatchObject({ code: 'QUORUM_UNAVAILABLE' });
      expect(lock.validUntil).toBeLessThanOrEqual(asked + 1_000);
    } finally {
      await node.resume();
    }
    await waitUntil('signal aborted', async () => lock.signal.aborted, 1_500, 10);
    expect(Date.now()).toBeLessThan(asked + 1_000);
    expect(await lock.release()).toMatchObject({ released: false });
  });
});
