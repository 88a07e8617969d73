import { type RedisNode, type RedisNodes, startRedisNodes } from '@cxkit/testkit';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Lock, LockManager, type LockManagerOptions } from '../src/index.js';
import { client, quit, sleep, trusted } from './helpers.js';

const DURATION_MS = 20_000;
const options = {
  maxTtlMs: 1_500,
  defaultTtlMs: 1_200,
  heartbeatIntervalMs: 200,
  staleAfterMs: 1_000,
  requestTimeoutMs: 250,
  retry: { minDelayMs: 20, maxDelayMs: 200 },
} satisfies Partial<LockManagerOptions>;

let redis: RedisNodes;
const clients: Redis[] = [];
const managers: LockManager[] = [];

beforeAll(async () => {
  redis = await startRedisNodes(5, { private: true });
  for (let i = 0; i < 4; i++) {
    const own = redis.urls.map(client);
    clients.push(...own);
    managers.push(new LockManager({ nodes: own, region: `region-${i}`, ...options }));
  }
  await Promise.all(managers.map((m) => trusted(m)));
});

afterAll(async () => {
  await Promise.all(redis?.nodes.map((n) => n.resume()) ?? []);
  await Promise.all(managers.map((m) => m.close()));
  await quit(clients);
  await redis?.stop();
});

/** A downstream store that checks the fence on every write, like checkpoint/idempotency do. */
interface Store {
  value: number;
  writes: number;
  lastFence: number;
  entryFences: number[];
  active: Set<Lock>;
}

/** Pauses or kill-restarts random nodes, never more than two impaired at once (restarted nodes stay impaired for the guard window). */
async function chaos(nodes: RedisNode[], until: number, log: string[]): Promise<void> {
  const impaired = new Set<number>();
  const actions: Promise<void>[] = [];
  while (Date.now() < until - 1_500) {
    await sleep(300 + Math.random() * 500);
    const free = nodes.map((_, i) => i).filter((i) => !impaired.has(i));
    if (impaired.size >= 2 || free.length === 0) continue;
    const i = free[Math.floor(Math.random() * free.length)]!;
    const node = nodes[i]!;
    impaired.add(i);
    const kill = Math.random() < 0.4;
    log.push(`${kill ? 'kill' : 'pause'} ${i}`);
    actions.push(
      (async () => {
        if (kill) {
          await node.kill();
          await sleep(100 + Math.random() * 400);
          await node.restart();
          await sleep(options.maxTtlMs + 500); // empty node: untrusted for the guard window
        } else {
          await node.pause();
          await sleep(300 + Math.random() * 900);
          await node.resume();
        }
        impaired.delete(i);
      })(),
    );
  }
  await Promise.all(actions);
}

it('5 nodes, 16 contenders on 4 resources under pause/kill/restart chaos: no overlap, fences strictly increase, progress throughout', async () => {
  const stores: Store[] = Array.from({ length: 4 }, () => ({
    value: 0,
    writes: 0,
    lastFence: 0,
    entryFences: [],
    active: new Set<Lock>(),
  }));
  let overlaps = 0;
  let fenceRegressions = 0;
  let rejectedWrites = 0;
  const successAt: number[] = [];
  const errors = new Map<string, number>();
  const started = Date.now();
  const until = started + DURATION_MS;
  // A lock counts as live while its holder's own validity says so; the signal is only the notification.
  const live = (l: Lock) => !l.signal.aborted && l.validUntil > Date.now();

  const contender = async (i: number) => {
    const manager = managers[i % 4]!;
    const resource = Math.floor(i / 4);
    const store = stores[resource]!;
    while (Date.now() < until) {
      try {
        await manager.withLock(
          `chaos:${resource}`,
          async (lock) => {
            for (const other of store.active) if (live(other)) overlaps++;
            const last = store.entryFences.at(-1);
            if (last !== undefined && lock.fence <= last) fenceRegressions++;
            store.entryFences.push(lock.fence);
            store.active.add(lock);
            const read = store.value;
            await sleep(Math.random() * 5);
            for (const other of store.active) if (other !== lock && live(other)) overlaps++;
            if (live(lock) && lock.fence > store.lastFence) {
              store.value = read + 1;
              store.lastFence = lock.fence;
              store.writes++;
              successAt.push(Date.now());
            } else rejectedWrites++;
            store.active.delete(lock);
          },
          { waitMs: 1_000 },
        );
      } catch (err) {
        const code = (err as { code?: string }).code ?? (err as Error).name;
        errors.set(code, (errors.get(code) ?? 0) + 1);
      }
      await sleep(5 + Math.random() * 15);
    }
  };

  const log: string[] = [];
  await Promise.all([...Array.from({ length: 16 }, (_, i) => contender(i)), chaos(redis.nodes, until, log)]);

  expect(log.length).toBeGreaterThanOrEqual(8);
  expect(overlaps).toBe(0);
  expect(fenceRegressions).toBe(0);
  for (const store of stores) {
    // No lost update: every accepted read-modify-write saw the previous one.
    expect(store.value).toBe(store.writes);
    expect(store.writes).toBeGreaterThan(10);
  }
  // Progress in every 4-second window of the run.
  for (let t = started; t + 4_000 <= until; t += 4_000) {
    expect(
      successAt.filter((s) => s >= t && s < t + 4_000).length,
      `successes in window at +${t - started} ms`,
    ).toBeGreaterThan(0);
  }
  console.info('chaos:', {
    actions: log.length,
    writes: stores.map((s) => s.writes),
    rejectedWrites,
    errors: Object.fromEntries(errors),
  });
}, 90_000);
