import { startRedisCluster, waitUntil } from '@cxkit/testkit';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StateCache, StateEvent } from '../src/index.js';
import { type Agent, cache, namespace } from './helpers.js';

describe('on a Redis Cluster: partitions spread over slots, batches grouped per slot', () => {
  let cluster: Awaited<ReturnType<typeof startRedisCluster>>;
  const clients: Cluster[] = [];
  const caches: StateCache<Agent>[] = [];

  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 0 });
    await cluster.waitHealthy();
  });
  afterAll(async () => {
    await Promise.all(caches.map((c) => c.close()));
    for (const c of clients) c.disconnect();
    await cluster.stop();
  });

  it('applies, reads, streams and invalidates across nodes', { timeout: 90_000 }, async () => {
    const ns = namespace('cluster');
    const instances: StateCache<Agent>[] = [];
    for (let i = 0; i < 2; i++) {
      const redis = new Cluster(cluster.startupNodes, { enableOfflineQueue: true });
      redis.on('error', () => {});
      clients.push(redis);
      const c = cache<Agent>(redis, ns, { commandTimeoutMs: 5_000 });
      caches.push(c);
      instances.push(c);
      await c.start();
      await c.ready(AbortSignal.timeout(30_000));
    }
    const [a, b] = instances as [StateCache<Agent>, StateCache<Agent>];
    const events: StateEvent<Agent>[] = Array.from({ length: 2_000 }, (_, i) => ({
      key: `agent-${i}`,
      version: 1,
      type: 'CREATED',
      value: { state: 'idle', n: i },
    }));
    const results = await a.apply(events);
    expect(results.every((r) => r.outcome === 'applied')).toBe(true);
    // The 16 partitions really live on more than one master.
    const slots = new Set<number>();
    for (let p = 0; p < 16; p++) slots.add((await cluster.masterForSlot(slotOf(`${ns}:${p}`))).port);
    expect(slots.size).toBeGreaterThan(1);

    const got = await b.getMany(events.map((e) => e.key));
    expect(events.every((e, i) => got.get(e.key)?.value?.n === i && got.get(e.key)?.stale === false)).toBe(
      true,
    );
    let count = 0;
    for await (const _ of b.entries()) count++;
    expect(count).toBe(2_000);

    await a.apply([
      { key: 'agent-7', version: 2, type: 'UPDATED', value: { state: 'busy', n: 7 } },
      { key: 'agent-8', version: 2, type: 'DELETED' },
    ]);
    // The two events live in different partitions (possibly on different nodes): separate bus messages.
    await waitUntil('b sees the update', async () => (await b.get('agent-7')).version === 2, 10_000);
    await waitUntil('b sees the delete', async () => (await b.get('agent-8')).version === 2, 10_000);
    expect(await b.get('agent-8')).toMatchObject({ found: false, version: 2, stale: false });
    expect(
      (await b.apply({ key: 'agent-8', version: 1, type: 'UPDATED', value: { state: 'x', n: 0 } })).outcome,
    ).toBe('ignored');
  });
});

/** CRC16/XMODEM of the hash tag, as Redis Cluster computes slots. */
function slotOf(tag: string): number {
  let crc = 0;
  for (const byte of Buffer.from(tag)) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}
