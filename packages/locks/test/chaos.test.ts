import { type RedisNode, type RedisNodes, startRedisNodes } from '@cxkit/testkit';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Lock, LockManager, type LockManagerOptions } from '../src/index.js';
import { scripts } from '../src/scripts.js';
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

/** What the contenders saw: overlapping sections, fence regressions, refused writes, errors, successes. */
interface Tally {
  overlaps: number;
  fenceRegressions: number;
  rejectedWrites: number;
  errors: Map<string, number>;
  successAt: number[];
}

const newStore = (): Store => ({
  value: 0,
  writes: 0,
  lastFence: 0,
  entryFences: [],
  active: new Set<Lock>(),
});

// A lock counts as live while its holder's own validity says so; the signal is only the notification.
const live = (l: Lock) => !l.signal.aborted && l.validUntil > Date.now();

/** Read-modify-write on `store` under `withLock` until `until`, checking overlap and fence on each entry. */
async function contender(manager: LockManager, resource: number, store: Store, until: number, t: Tally) {
  while (Date.now() < until) {
    try {
      await manager.withLock(
        `chaos:${resource}`,
        async (lock) => {
          for (const other of store.active) if (live(other)) t.overlaps++;
          const last = store.entryFences.at(-1);
          if (last !== undefined && lock.fence <= last) t.fenceRegressions++;
          store.entryFences.push(lock.fence);
          store.active.add(lock);
          const read = store.value;
          await sleep(Math.random() * 5);
          for (const other of store.active) if (other !== lock && live(other)) t.overlaps++;
          if (live(lock) && lock.fence > store.lastFence) {
            store.value = read + 1;
            store.lastFence = lock.fence;
            store.writes++;
            t.successAt.push(Date.now());
          } else t.rejectedWrites++;
          store.active.delete(lock);
        },
        { waitMs: 1_000 },
      );
    } catch (err) {
      const code = (err as { code?: string }).code ?? (err as Error).name;
      t.errors.set(code, (t.errors.get(code) ?? 0) + 1);
    }
    await sleep(5 + Math.random() * 15);
  }
}

/** Runs `contenders` (manager, resource) against chaos for `durationMs`; asserts safety and progress. */
async function underChaos(contenders: [LockManager, number][], durationMs: number, windowMs: number) {
  const resources = Math.max(...contenders.map(([, r]) => r)) + 1;
  const stores = Array.from({ length: resources }, newStore);
  const t: Tally = { overlaps: 0, fenceRegressions: 0, rejectedWrites: 0, errors: new Map(), successAt: [] };
  const started = Date.now();
  const until = started + durationMs;
  const log: string[] = [];
  await Promise.all([
    ...contenders.map(([m, r]) => contender(m, r, stores[r]!, until, t)),
    chaos(redis.nodes, until, log),
  ]);
  expect(log.length).toBeGreaterThanOrEqual(Math.floor(durationMs / 2_500));
  expect(t.overlaps).toBe(0);
  expect(t.fenceRegressions).toBe(0);
  for (const store of stores) {
    // No lost update: every accepted read-modify-write saw the previous one.
    expect(store.value).toBe(store.writes);
    expect(store.writes).toBeGreaterThan(10);
  }
  // Progress in every window of the run.
  for (let w = started; w + windowMs <= until; w += windowMs) {
    expect(
      t.successAt.filter((s) => s >= w && s < w + windowMs).length,
      `successes in window at +${w - started} ms`,
    ).toBeGreaterThan(0);
  }
  console.info('chaos:', {
    actions: log.length,
    writes: stores.map((s) => s.writes),
    rejectedWrites: t.rejectedWrites,
    errors: Object.fromEntries(t.errors),
  });
}

it('5 nodes, 16 contenders on 4 resources under pause/kill/restart chaos: no overlap, fences strictly increase, progress throughout', async () => {
  await underChaos(
    Array.from({ length: 16 }, (_, i) => [managers[i % 4]!, Math.floor(i / 4)] as [LockManager, number]),
    DURATION_MS,
    4_000,
  );
}, 90_000);

it('hand-offs inside one manager under chaos (8 callers on 2 resources): no overlap, fences strictly increase, progress', async () => {
  // The callers share one manager, so a release hands the lock to the next of them (one hand-off
  // script call per node) instead of publishing; count those calls on its connections.
  const manager = managers[0]!;
  let handOffs = 0;
  for (const c of clients.slice(0, 5)) {
    const evalsha = c.evalsha.bind(c) as (...args: unknown[]) => Promise<unknown>;
    (c as unknown as { evalsha: typeof evalsha }).evalsha = (...args) => {
      if (args[0] === scripts.handoff.sha) handOffs++;
      return evalsha(...args);
    };
  }
  await underChaos(
    Array.from({ length: 8 }, (_, i) => [manager, i % 2] as [LockManager, number]),
    8_000,
    4_000,
  );
  console.info('hand-off calls:', handOffs);
  expect(handOffs).toBeGreaterThan(50);
}, 60_000);
