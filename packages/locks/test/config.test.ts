import { parseInfo, type RedisNodes, startRedisNodes } from '@cxkit/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  isConfigError,
  type LockEvents,
  LockManager,
  type LockManagerOptions,
} from '../src/index.js';
import { client, quit } from './helpers.js';

let redis: RedisNodes;
let clients: Redis[];
let manager: LockManager;

beforeAll(async () => {
  redis = await startRedisNodes(1, { private: true });
  clients = [client(redis.urls[0]!)];
  manager = new LockManager({ nodes: clients[0]!, maxTtlMs: 60_000 });
});

afterAll(async () => {
  await manager?.close();
  await quit(clients);
  await redis?.stop();
});

async function fieldOf(work: () => unknown): Promise<string> {
  try {
    await work();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect(err).toBeInstanceOf(TypeError);
    expect(isConfigError(err)).toBe(true);
    return (err as ConfigError).field;
  }
  throw new Error('expected a ConfigError');
}

describe('bad input', () => {
  it('acquire() rejects bad resources and options with ConfigError naming the field, before any Redis call', async () => {
    expect(await fieldOf(() => manager.acquire(''))).toBe('resource');
    expect(await fieldOf(() => manager.acquire('r'.repeat(513)))).toBe('resource');
    expect(await fieldOf(() => manager.acquire(42 as unknown as string))).toBe('resource');
    expect(await fieldOf(() => manager.acquire('r', { ttlMs: 0 }))).toBe('ttlMs');
    expect(await fieldOf(() => manager.acquire('r', { ttlMs: -5 }))).toBe('ttlMs');
    expect(await fieldOf(() => manager.acquire('r', { ttlMs: 60_001 }))).toBe('ttlMs');
    expect(await fieldOf(() => manager.acquire('r', { ttlMs: 1.5 }))).toBe('ttlMs');
    expect(await fieldOf(() => manager.acquire('r', { ttlMs: 4_000 }))).toBe('ttlMs'); // not above the heartbeat
    // Without heartbeats: a TTL that the clock-drift allowance (ttl * driftFactor + 2 ms) uses up.
    expect(await fieldOf(() => manager.acquire('r', { ttlMs: 2, heartbeat: false }))).toBe('ttlMs');
    expect(
      await fieldOf(() => manager.semaphore('s', { limit: 2 }).acquire({ ttlMs: 3, heartbeat: false })),
    ).toBe('ttlMs');
    // Above the 5 s heartbeat, but its signal would abort (at 4.9 s) before the first heartbeat lands.
    await expect(manager.acquire('r', { ttlMs: 5_500 })).rejects.toThrow(
      'must be >= 6743 while heartbeating',
    );
    expect(await fieldOf(() => manager.acquire('r', { waitMs: -1 }))).toBe('waitMs');
    for (const maxHoldMs of [0, 1.5, Number.NaN, -Infinity, 2 ** 31])
      expect(await fieldOf(() => manager.acquire('r', { maxHoldMs }))).toBe('maxHoldMs');
    expect(await fieldOf(() => manager.acquire('r', { operation: 'x'.repeat(200) }))).toBe('operation');
    expect(await fieldOf(() => manager.acquire('r', { ttl: 5 } as never))).toBe('ttl');
    expect(await fieldOf(() => manager.withLock('', async () => 1))).toBe('resource');
    expect(await fieldOf(() => manager.inspect(''))).toBe('resource');
    // A leading '}' would close the Cluster hash tag at once: the lock's keys would span slots.
    expect(await fieldOf(() => manager.acquire('}x'))).toBe('resource');
    // Promise-returning calls reject on bad input, never throw synchronously.
    const rejected = [
      manager.inspect(''),
      manager.semaphore('slots', { limit: 2 }).acquire({ ttlMs: -1 }),
      manager.acquire('r', { ttlMs: -1 }),
    ];
    for (const p of rejected) await expect(p).rejects.toBeInstanceOf(ConfigError);
    // An election checks every option it passes to its acquisitions, up front.
    const onElected = () => {};
    expect(await fieldOf(() => manager.elect('x', { onElected, operation: 'x'.repeat(200) }))).toBe(
      'operation',
    );
    expect(await fieldOf(() => manager.elect('', { onElected }))).toBe('name');
    expect(await fieldOf(() => manager.elect('n'.repeat(600), { onElected }))).toBe('name');
    expect(await fieldOf(() => manager.elect('x', { onElected, ttl: 30_000 } as never))).toBe('ttl');
    expect(await fieldOf(() => manager.elect('x', { onElected, onDemoted: 1 } as never))).toBe('onDemoted');
    // A semaphore's name and options.
    expect(await fieldOf(() => manager.semaphore('n'.repeat(600), { limit: 2 }))).toBe('name');
    expect(await fieldOf(() => manager.semaphore('s', { limit: 2, ttlMs: 5 } as never))).toBe('ttlMs');
    // A function that is not one is refused before the lock is taken.
    expect(await fieldOf(() => manager.withLock('r', 'run' as never))).toBe('fn');
    expect(await fieldOf(() => manager.semaphore('s', { limit: 2 }).withPermit(null as never))).toBe('fn');
    // A lone surrogate is sent as U+FFFD: two such names would share one lock.
    expect(await fieldOf(() => manager.acquire('call-\uD800'))).toBe('resource');
    expect(await fieldOf(() => manager.acquire('r', { correlationId: '\uDC00' }))).toBe('correlationId');
    // A misspelt event would never fire.
    expect(await fieldOf(() => manager.on('aquired' as never, () => {}))).toBe('event');
    expect(await fieldOf(() => manager.on('acquired', 'log' as never))).toBe('listener');
    // Nothing reached the server: no script ran and no key exists.
    const stats = parseInfo(await redis.nodes[0]!.command('INFO', 'commandstats'));
    expect(Object.keys(stats).filter((k) => /evalsha|cmdstat_eval\b|hset|incr/.test(k))).toEqual([]);
    expect(await redis.nodes[0]!.command('DBSIZE')).toBe('0');
  });

  it('the constructor validates every option once, naming it', async () => {
    const nodes = clients[0]!;
    const bad: [Partial<LockManagerOptions>, string][] = [
      [{ retry: { retries: 1.5 } }, 'retry.retries'],
      [{ retry: { retries: -1 } }, 'retry.retries'],
      [{ retry: { minDelayMs: 900, maxDelayMs: 100 } }, 'retry.minDelayMs'],
      [{ defaultTtlMs: 0 }, 'defaultTtlMs'],
      [{ defaultTtlMs: 120_000 }, 'defaultTtlMs'],
      [{ heartbeatIntervalMs: 20_000 }, 'heartbeatIntervalMs'],
      [{ heartbeatIntervalMs: 13_000 }, 'heartbeatIntervalMs'], // below staleAfterMs, yet no lock outlives it
      [{ defaultTtlMs: 6_000 }, 'defaultTtlMs'],
      [{ driftFactor: 2 }, 'driftFactor'],
      [{ replicaAcks: 0.5 }, 'replicaAcks'],
      [{ region: '' }, 'region'],
      [{ quorum: 2 }, 'quorum'],
      [{ recordRetentionMs: 1_000 }, 'recordRetentionMs'],
      [{ recordRetentionMs: 60_000.5 }, 'recordRetentionMs'],
      [{ auditRetentionMs: 0 }, 'auditRetentionMs'],
      // Bounded: the audit stream never expires, close() waits twice the request timeout in one timer.
      [{ auditMaxLen: 2_000_000 }, 'auditMaxLen'],
      [{ maxWaiters: 2_000_000 }, 'maxWaiters'],
      [{ maxHeldLocks: 2_000_000 }, 'maxHeldLocks'],
      [{ retry: { retries: 2_000_000 } }, 'retry.retries'],
      [{ requestTimeoutMs: 2 ** 30 }, 'requestTimeoutMs'],
      [{ region: 'eu-\uD800' }, 'region'],
      // A logger is called at every level.
      [{ logger: { warn() {}, error() {} } as never }, 'logger'],
      // WAIT must be answered within the second half of a write's request timeout.
      [{ replicaAcks: 1, replicaAckTimeoutMs: 500 }, 'replicaAckTimeoutMs'],
    ];
    for (const [options, field] of bad) {
      expect(await fieldOf(() => new LockManager({ nodes, ...options }))).toBe(field);
    }
    expect(await fieldOf(() => new LockManager({ nodes: [] }))).toBe('nodes');
    expect(await fieldOf(() => new LockManager({ nodes: [clients[0]!, {} as Redis] }))).toBe('nodes.1');
    const other = () => {
      const c = client(redis.urls[0]!);
      clients.push(c);
      return c;
    };
    expect(await fieldOf(() => new LockManager({ nodes: [nodes, other(), other()], quorum: 1 }))).toBe(
      'quorum',
    );
    // One client listed twice would vote twice, and so would two clients of one server; a Cluster's keys
    // need hash tags a quorum does not use.
    expect(await fieldOf(() => new LockManager({ nodes: [nodes, other(), nodes] }))).toBe('nodes.2');
    expect(await fieldOf(() => new LockManager({ nodes: [nodes, other(), other()] }))).toBe('nodes.1');
    // Unix sockets (and Sentinel clients) carry ioredis' placeholder host and port: not compared.
    const sockets = ['cxkit-test-a.sock', 'cxkit-test-b.sock'].map((path) => {
      const c = new Redis({ path, lazyConnect: true, retryStrategy: () => null });
      c.on('error', () => {});
      return c;
    });
    const viaSockets = new LockManager({ nodes: [nodes, ...sockets] });
    await viaSockets.close();
    for (const c of sockets) c.disconnect();
    const cluster = Object.assign(Object.create(other()), { isCluster: true }) as Redis;
    expect(await fieldOf(() => new LockManager({ nodes: [nodes, cluster, other()] }))).toBe('nodes.1');
    // Braces in the prefix would move the Cluster hash tag; an empty one would name keys like the app's.
    expect(await fieldOf(() => new LockManager({ nodes, prefix: 'x{}' }))).toBe('prefix');
    expect(await fieldOf(() => new LockManager({ nodes, prefix: '' }))).toBe('prefix');
    expect(await fieldOf(() => new LockManager({ nodes: 'redis://x' as never }))).toBe('nodes');
    // A misspelt option is named before the required one it leaves missing.
    expect(() => new LockManager({ clients: [nodes] } as never)).toThrow('clients: is not an option');
    expect(() => new LockManager({} as never)).toThrow('nodes: is required');
  });

  it('reports a node whose maxmemory-policy may evict lock records, once, and stays quiet on noeviction', async () => {
    const evicting = await startRedisNodes(1, {
      private: true,
      args: ['--maxmemory-policy', 'volatile-lru'],
    });
    const own = [client(evicting.urls[0]!), client(redis.urls[0]!)];
    const warnings: unknown[] = [];
    const logger = { debug() {}, info() {}, error() {}, warn: (obj: object) => warnings.push(obj) };
    const risky = new LockManager({ nodes: own[0]!, logger });
    const safe = new LockManager({ nodes: own[1]!, logger });
    const seen: LockEvents['eviction-policy'][] = [];
    risky.on('eviction-policy', (e) => seen.push(e));
    safe.on('eviction-policy', (e) => seen.push(e));
    try {
      // The check runs once, in the background, from the constructor.
      await (await risky.acquire('evict-check')).release();
      await (await safe.acquire('evict-check')).release();
      await new Promise((r) => setTimeout(r, 200));
      expect(seen).toEqual([
        { node: expect.stringContaining(new URL(evicting.urls[0]!).port), policy: 'volatile-lru' },
      ]);
      expect(warnings).toEqual([expect.objectContaining({ policy: 'volatile-lru' })]);
    } finally {
      await Promise.all([risky.close(), safe.close()]);
      await quit(own);
      await evicting.stop();
    }
  });

  it('extend() validates its TTL', async () => {
    await using lock = await manager.acquire('ext-bad');
    expect(await fieldOf(() => lock.extend(0))).toBe('ttlMs');
    expect(await fieldOf(() => lock.extend(61_000))).toBe('ttlMs');
    // A heartbeating lock must outlive its next heartbeat: with a 5 s interval its signal, which aborts
    // at 89% of the TTL less 2 ms, must wait one interval and half of another (6,743 ms of TTL).
    const before = lock.validUntil;
    expect(await fieldOf(() => lock.extend(5_000))).toBe('ttlMs');
    expect(await fieldOf(() => lock.extend(6_742))).toBe('ttlMs');
    expect(Math.abs(lock.validUntil - before)).toBeLessThan(5);
    expect(await lock.extend(6_743)).toBeGreaterThan(Date.now());
    // Without the heartbeat a short TTL is the caller's choice.
    await using quiet = await manager.acquire('ext-quiet', { heartbeat: false });
    expect(await quiet.extend(1_000)).toBeGreaterThan(Date.now());
  });
});
