// Work still in flight when a lock ends or changes: a grant that lands while the manager closes, a
// heartbeat that re-claims after the lock's release, an extension to a shorter TTL whose reply is lost.
import { type RedisNodes, startRedisNodes, waitUntil } from '@cxkit/testkit';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { isLockConflictError, isLockLostError, LockManager, type LockManagerOptions } from '../src/index.js';
import type { HeldLock } from '../src/lock.js';
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

/** Waits until another manager gets the only permit of semaphore `name` without waiting. */
async function slotFree(name: string): Promise<void> {
  const other = manager().manager.semaphore(name, { limit: 1 });
  await waitUntil(
    'slot free',
    async () => {
      const next = await other.acquire().catch(() => undefined);
      await next?.release();
      return next !== undefined;
    },
    2_000,
    50,
  );
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
  it('a second close() resolves when the first is done, not at once', async () => {
    const { manager: m } = manager({ requestTimeoutMs: 500 });
    await m.acquire('in-flight:close-twice', { heartbeat: false });
    await redis.nodes[0]!.pause(); // the release of the held lock waits for its timeout
    try {
      const first = m.close();
      const second = m.close();
      const early = await Promise.race([second.then(() => true), sleep(200).then(() => false)]);
      expect(early).toBe(false);
      await redis.nodes[0]!.resume();
      await Promise.all([first, second]);
    } finally {
      await redis.nodes[0]!.resume();
    }
  });

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

  it('a semaphore heartbeat retried after NOSCRIPT that runs after the release gives the permit back', async () => {
    const { manager: m, client: c } = manager();
    const permits = m.semaphore('noscript-sem', { limit: 1 });
    const permit = await permits.acquire({ ttlMs: 10_000 });
    await c.script('FLUSH');
    await c.script('LOAD', scripts.semRelease.source);
    const extending = permit.extend().catch((err: unknown) => err);
    expect(await permit.release()).toEqual({ released: true });
    await extending;
    // The only slot is free again: another manager gets it without waiting (before: held for the TTL).
    await slotFree('noscript-sem');
  });

  it('a semaphore grant that lands after its round timed out (a NOSCRIPT retry behind the cleanup) is given back', async () => {
    const { manager: m, client: c } = manager({ requestTimeoutMs: 300 });
    const permits = m.semaphore('late-sem', { limit: 1 });
    await (await permits.acquire()).release();
    // Only the release script is cached: the acquire gets NOSCRIPT and runs again after the cleanup
    // release that its timeout sent (which finds nothing to give back).
    await c.script('FLUSH');
    await c.script('LOAD', scripts.semRelease.source);
    await redis.nodes[0]!.pause();
    try {
      const attempt = permits.acquire({ ttlMs: 10_000 }).catch((err: unknown) => err);
      expect(await attempt).toMatchObject({ code: 'QUORUM_UNAVAILABLE' });
    } finally {
      await redis.nodes[0]!.resume();
    }
    await slotFree('late-sem');
  });

  it('a round that started before a shorter TTL was written cannot raise validity again', async () => {
    const { manager: m } = manager();
    const lock = (await m.acquire('bounded', { ttlMs: 10_000, heartbeat: false })) as HeldLock;
    const earlier = performance.now();
    const later = earlier + 1;
    lock.bound(later, 1_000);
    const bounded = lock.validUntil;
    expect(bounded).toBeLessThanOrEqual(Date.now() + 1_000);
    // The earlier round (the 10 s TTL) confirms after the shorter one was written: validity stays.
    lock.confirmed(earlier, 10_000);
    expect(lock.validUntil).toBeLessThanOrEqual(bounded + 5);
    await lock.release();
  });

  it("a lock that expired and is released later still reports 'expired' through its signal", async () => {
    const { manager: m } = manager();
    const lock = await m.acquire('expired-then-released', { ttlMs: 300, heartbeat: false });
    await sleep(400);
    expect(await lock.release()).toEqual({ released: false, reason: 'expired' });
    // The signal is read only now (as an election does after its term): the reason is the expiry.
    const reason = lock.signal.reason;
    expect(isLockLostError(reason) && reason.reason).toBe('expired');
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
