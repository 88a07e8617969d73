import { setTimeout as sleep } from 'node:timers/promises';
import { waitUntil } from '@cxkit/testkit';
import { Redis } from 'ioredis';
import type { LockManager } from '../src/index.js';

/** A client that gives up quickly on a dead node, as the README recommends for lock nodes. */
export function client(url: string): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, retryStrategy: () => 100 });
  redis.on('error', () => {}); // killed nodes are part of the tests
  return redis;
}

export async function quit(clients: Redis[]): Promise<void> {
  await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
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

export { sleep };
