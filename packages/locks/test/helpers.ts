import { setTimeout as sleep } from 'node:timers/promises';
import { type RedisNode, type RedisNodes, startRedisNodes, waitUntil } from '@cxkit/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { LockManager, type LockManagerOptions } from '../src/index.js';

/** A client that gives up quickly on a dead node, as the README recommends for lock nodes. */
export function client(url: string): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, retryStrategy: () => 100 });
  redis.on('error', () => {}); // killed nodes are part of the tests
  return redis;
}

export async function quit(clients: Redis[]): Promise<void> {
  await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
}

/**
 * Managers over the same nodes, each with its own connections (one per region, as separate pods would
 * have), all closed by `close()`. `clients` lists every connection in creation order, so `clients[i]`
 * is a connection to node `i` of the first manager.
 */
function managerPool(base: Partial<LockManagerOptions>) {
  const clients: Redis[] = [];
  const managers: LockManager[] = [];
  return {
    clients,
    create(urls: string[], region: string, extra: Partial<LockManagerOptions> = {}): LockManager {
      const own = urls.map(client);
      clients.push(...own);
      const m = new LockManager({ nodes: own, region, ...base, ...extra });
      managers.push(m);
      return m;
    },
    async close(): Promise<void> {
      await Promise.all(managers.map((m) => m.close()));
      await quit(clients);
    },
  };
}

/**
 * A test file's 5 private masters (started in beforeAll, stopped in afterAll with every manager made by
 * `manager()`). With `warm`, beforeAll also waits until the nodes are past the amnesia guard window.
 */
export function fiveMasters(base: Partial<LockManagerOptions>, options: { warm: boolean }) {
  const pool = managerPool(base);
  let redis: RedisNodes | undefined;
  const urls = () => {
    if (!redis) throw new Error('fiveMasters: nodes are started in beforeAll');
    return redis.urls;
  };
  const manager = (region: string, extra: Partial<LockManagerOptions> = {}): LockManager =>
    pool.create(urls(), region, extra);
  beforeAll(async () => {
    redis = await startRedisNodes(5, { private: true });
    if (options.warm) await trusted(manager('warm'));
  });
  afterAll(async () => {
    await pool.close();
    await redis?.stop();
  });
  return {
    manager,
    clients: pool.clients,
    nodes: (): RedisNode[] => redis?.nodes ?? [],
  };
}

/** Waits until every node of `manager` counts (the amnesia guard window of fresh nodes has passed). */
export async function trusted(manager: LockManager, resource = 'warm-up', timeoutMs = 20_000): Promise<void> {
  await waitUntil(
    'all lock nodes trusted',
    async () => (await manager.inspect(resource)).nodes.every((n) => n.trusted),
    timeoutMs,
    100,
  );
}

/**
 * A test file's one private master, two connections to it, and a manager on the first (short
 * heartbeat): started in beforeAll, closed in afterAll. Read them through the returned object.
 */
export function oneMaster(staleAfterMs: number, extra: Partial<LockManagerOptions> = {}) {
  let state: { redis: RedisNodes; clients: Redis[]; manager: LockManager } | undefined;
  const started = () => {
    if (!state) throw new Error('oneMaster: the node is started in beforeAll');
    return state;
  };
  beforeAll(async () => {
    const redis = await startRedisNodes(1, { private: true });
    const clients = [client(redis.urls[0]!), client(redis.urls[0]!)];
    const manager = new LockManager({
      nodes: clients[0]!,
      region: 'us-east-1',
      heartbeatIntervalMs: 100,
      staleAfterMs,
      ...extra,
    });
    state = { redis, clients, manager };
  });
  afterAll(async () => {
    if (!state) return;
    await state.manager.close();
    await quit(state.clients);
    await state.redis.stop();
  });
  return {
    get redis(): RedisNodes {
      return started().redis;
    },
    get clients(): Redis[] {
      return started().clients;
    },
    get manager(): LockManager {
      return started().manager;
    },
  };
}

export { sleep };
