import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { type RedisNodes, spawnTs, startRedisNodes } from '@cxkit/testkit';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  isAcquireTimeoutError,
  isLockConflictError,
  type LockConflictError,
  type LockEvents,
  LockManager,
} from '../src/index.js';
import { client, quit, sleep } from './helpers.js';

let redis: RedisNodes;
let clients: Redis[] = [];
let manager: LockManager;
const staleAfterMs = 1_000;
const heartbeatIntervalMs = 200;

beforeAll(async () => {
  // Nodes that fsync every write never forget a lock, so the amnesia guard is switched off (the documented opt-out).
  redis = await startRedisNodes(3, { private: true, persistence: 'aof-always' });
  clients = redis.urls.map(client);
  manager = new LockManager({
    nodes: clients,
    region: 'eu-west-1',
    heartbeatIntervalMs,
    staleAfterMs,
    maxTtlMs: 30_000,
    amnesiaGuard: false,
    retry: { minDelayMs: 20, maxDelayMs: 100 },
  });
});

afterAll(async () => {
  await manager?.close();
  await quit(clients);
  await redis?.stop();
});

describe('stale override', () => {
  it('overrides a SIGKILLed holder process within staleAfterMs + one heartbeat, with an audit record naming it', async () => {
    const child = spawnTs(new URL('./fixtures/holder.ts', import.meta.url).pathname, [
      redis.urls.join(','),
      'stale:dead',
    ]);
    const lines = createInterface({ input: child.stdout! });
    const [line] = (await once(lines, 'line')) as [string];
    const dead = JSON.parse(line) as { token: string; fence: number; pid: number };
    await sleep(600); // a few heartbeats from the child
    const overrides: LockEvents['override'][] = [];
    manager.on('override', (e) => overrides.push(e));
    child.kill('SIGKILL');
    await once(child, 'exit');
    const killedAt = performance.now();
    const lock = await manager.acquire('stale:dead', { waitMs: 10_000, correlationId: 'contender' });
    const tookMs = performance.now() - killedAt;
    // Soon after the heartbeat went stale (staleAfterMs + one heartbeat + polling and load slack), not
    // after the 30 s TTL; never before it was stale by the node's clock (checked on the record below).
    expect(tookMs).toBeLessThan(staleAfterMs + heartbeatIntervalMs + 2_500);
    expect(lock.fence).toBeGreaterThan(dead.fence);
    expect(overrides).toHaveLength(1);
    expect(overrides[0]!.previous).toMatchObject({
      token: dead.token,
      region: 'us-east-1',
      operation: 'WFM_WRITE',
      correlationId: `child-${dead.pid}`,
    });
    expect(overrides[0]!.previous.heartbeatAgeMs).toBeGreaterThan(staleAfterMs);
    expect(overrides[0]!.nodes.length).toBeGreaterThanOrEqual(1);
    // Every node that replaced the dead holder appended an audit record to its bounded stream.
    const streams = await Promise.all(
      clients.map((c) => c.xrevrange('cxkit:locks:audit', '+', '-', 'COUNT', 5)),
    );
    const audit = streams.flat().map(([, fields]) => {
      const record: Record<string, string> = {};
      for (let i = 0; i < fields.length; i += 2) record[fields[i]!] = fields[i + 1]!;
      return record;
    });
    expect(audit.filter((r) => r.prevToken === dead.token).length).toBeGreaterThanOrEqual(2);
    expect(audit.find((r) => r.prevToken === dead.token)).toMatchObject({
      resource: 'stale:dead',
      prevCorrelationId: `child-${dead.pid}`,
      prevRegion: 'us-east-1',
      region: 'eu-west-1',
    });
    await lock.release();
  });

  it('never overrides a slow holder that keeps heartbeating', async () => {
    const overrides: LockEvents['override'][] = [];
    manager.on('override', (e) => overrides.push(e));
    const holder = manager.withLock(
      'stale:slow',
      async (lock) => {
        await sleep(staleAfterMs * 3);
        return lock.signal.aborted;
      },
      { ttlMs: 20_000 },
    );
    await sleep(100);
    const contender = new LockManager({
      nodes: clients,
      region: 'ap-south-1',
      heartbeatIntervalMs,
      staleAfterMs,
      amnesiaGuard: false,
    });
    const err = await contender.acquire('stale:slow', { waitMs: staleAfterMs * 2 }).catch((e: unknown) => e);
    expect(isAcquireTimeoutError(err)).toBe(true);
    expect(isLockConflictError((err as Error).cause)).toBe(true);
    expect(await holder).toBe(false);
    expect(overrides).toHaveLength(0);
    await contender.close();
  });

  it("judges staleness by the holder's own staleAfterMs when it is longer than the contender's", async () => {
    // A manager on a slower schedule (e.g. mid rolling deploy); its holder stops heartbeating at once.
    const slow = new LockManager({
      nodes: clients,
      region: 'us-west-2',
      heartbeatIntervalMs: 1_000,
      staleAfterMs: 2_500,
      maxTtlMs: 30_000,
      amnesiaGuard: false,
    });
    try {
      const held = await slow.acquire('stale:own', { ttlMs: 10_000, heartbeat: false });
      const view = await manager.inspect('stale:own');
      expect(view.holder?.staleAfterMs).toBe(2_500);
      // Stale by the contender's 1 s, not by the holder's 2.5 s: a conflict, the holder keeps it.
      await sleep(1_300);
      const early = await manager.acquire('stale:own').catch((e: unknown) => e);
      expect(isLockConflictError(early)).toBe(true);
      expect((early as LockConflictError).holder?.heartbeatAgeMs).toBeGreaterThan(staleAfterMs);
      expect(held.signal.aborted).toBe(false);
      // Past the holder's own threshold the contender takes it over.
      await sleep(1_400);
      const lock = await manager.acquire('stale:own');
      expect(lock.fence).toBeGreaterThan(held.fence);
      expect(held.validUntil).toBeLessThanOrEqual(Date.now());
      await lock.release();
      expect(await held.release()).toEqual({ released: false, reason: 'expired' });
    } finally {
      await slow.close();
    }
  });
});
