import { type RedisCluster, startRedisCluster } from '@cxkit/testkit';
import calculateSlot from 'cluster-key-slot';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Deduplicator } from '../src/index.js';
import { countScripts, deferred } from './helpers.js';

const SLOTS = 16_384;
let cluster: RedisCluster;
const clients: Cluster[] = [];

function connect(options: { slotsRefreshInterval?: number } = {}): Cluster {
  const c = new Cluster(cluster.startupNodes, { redisOptions: { maxRetriesPerRequest: 2 }, ...options });
  clients.push(c);
  return c;
}

beforeAll(async () => {
  cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 });
}, 120_000);
afterAll(async () => {
  await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
  await cluster?.stop();
});

/** One id per hash slot of `namespace:<id>`, so a batch touches all 16,384 slots. */
function idPerSlot(namespace: string): string[] {
  const ids = new Array<string>(SLOTS);
  let found = 0;
  for (let i = 0; found < SLOTS; i++) {
    const id = `call-${i}`;
    const slot = calculateSlot(`${namespace}:${id}`);
    if (ids[slot] === undefined) {
      ids[slot] = id;
      found++;
    }
  }
  return ids;
}

describe('Redis Cluster', () => {
  it('claimMany over all 16,384 slots: correct outcomes in one call, one pipeline per master', async () => {
    const ids = idPerSlot('cl');
    const other = new Deduplicator({ redis: connect(), namespace: 'cl', owner: 'pod-b' });
    const heldIds = ids.filter((_, slot) => slot % 7 === 0);
    const doneIds = ids.filter((_, slot) => slot % 11 === 0 && slot % 7 !== 0);
    for (const outcome of await other.claimMany(doneIds)) {
      if (outcome.outcome === 'claimed') await outcome.lease.complete({ slotOf: outcome.id });
    }
    expect((await other.claimMany(heldIds)).every((o) => o.outcome === 'claimed')).toBe(true);

    const redis = connect();
    const dedup = new Deduplicator({ redis, namespace: 'cl', owner: 'pod-a', maxBatchSize: SLOTS });
    await dedup.verify();
    let pipelines = 0;
    const pipeline = redis.pipeline.bind(redis);
    redis.pipeline = ((...args: Parameters<typeof pipeline>) => {
      pipelines++;
      return pipeline(...args);
    }) as typeof redis.pipeline;
    // Script calls sent outside a pipeline (a single-group node or a redirected retry) are counted too.
    let direct = 0;
    const target = redis as unknown as Record<string, (...args: unknown[]) => unknown>;
    const claimScript = target.cxkit_dedup_v2_claim!;
    target.cxkit_dedup_v2_claim = function (this: unknown, ...args: unknown[]) {
      if (this === redis) direct++;
      return claimScript.apply(this, args);
    };
    const shuffledIds = [...ids].reverse();
    const outcomes = await dedup.claimMany(shuffledIds);
    expect(pipelines).toBe((await cluster.masters()).length);
    expect(direct).toBe(0);
    expect(outcomes.map((o) => o.id)).toEqual(shuffledIds);
    const held = new Set(heldIds);
    const done = new Set(doneIds);
    for (const o of outcomes) {
      if (held.has(o.id)) expect(o).toMatchObject({ outcome: 'in-progress', owner: 'pod-b' });
      else if (done.has(o.id))
        expect(o).toMatchObject({ outcome: 'done', owner: 'pod-b', result: { slotOf: o.id } });
      else expect(o.outcome).toBe('claimed');
    }
    const claimed = outcomes.filter((o) => o.outcome === 'claimed');
    expect(claimed).toHaveLength(SLOTS - held.size - done.size);
    // Each record lives on the master owning its slot and holds the winner's token.
    const sample = claimed[123]!;
    if (sample.outcome === 'claimed')
      expect(await redis.hget(`cl:${sample.id}`, 't')).toBe(sample.lease.token);
    // A second batch claims nothing new.
    const again = await other.claimMany(ids.slice(0, 2_000));
    expect(again.some((o) => o.outcome === 'claimed')).toBe(false);
    await dedup.close();
    await other.close();
  }, 60_000);

  it('process and waitForResult work across the Cluster (notifications reach every node)', async () => {
    const a = new Deduplicator({ redis: connect(), namespace: 'clp', owner: 'pod-a' });
    const b = new Deduplicator({ redis: connect(), namespace: 'clp', owner: 'pod-b' });
    const ids = ['x', 'y', 'z', 'w'];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const began = ids.map(() => deferred());
    const winning = ids.map((id, i) =>
      a.process(id, async () => {
        began[i]!.resolve();
        await gate;
        return `result-${id}`;
      }),
    );
    await Promise.all(began.map((b) => b.promise));
    const waiting = ids.map((id) => b.process(id, () => 'never', { waitForResult: 15_000 }));
    await new Promise((r) => setTimeout(r, 200));
    release();
    await Promise.all(winning);
    const got = await Promise.all(waiting);
    expect(got.map((o) => (o.status === 'duplicate' ? o.result : undefined))).toEqual(
      ids.map((id) => `result-${id}`),
    );
    await a.close();
    await b.close();
  }, 60_000);

  it('same-tick claims share one script call per hash slot; repeats and held ids answer as alone', async () => {
    const redis = connect();
    // A {hashtag} namespace puts every id in one slot: the whole tick is one script call.
    const tagged = new Deduplicator({ redis, namespace: '{clt}', owner: 'pod-a' });
    await tagged.verify();
    const counts = countScripts(redis);
    const ids = Array.from({ length: 50 }, (_, i) => `t-${i}`);
    const outcomes = await Promise.all([...ids, 't-7'].map((id) => tagged.claim(id)));
    expect(counts).toEqual({ many: 1, one: 0 });
    expect(outcomes.slice(0, 50).every((o) => o.outcome === 'claimed')).toBe(true);
    expect(outcomes[50]).toMatchObject({ outcome: 'in-progress', owner: 'pod-a' });

    // Ids spread over the slots, each claimed twice in the tick, some held or done by another pod.
    const other = new Deduplicator({ redis: connect(), namespace: 'clc', owner: 'pod-b' });
    const spread = Array.from({ length: 300 }, (_, i) => `s-${i}`);
    const held = new Set(spread.filter((_, i) => i % 5 === 0));
    const done = new Set(spread.filter((_, i) => i % 7 === 0 && i % 5 !== 0));
    for (const o of await other.claimMany([...done])) {
      if (o.outcome === 'claimed') await o.lease.complete(`by-b:${o.id}`);
    }
    await other.claimMany([...held]);
    const dedup = new Deduplicator({ redis, namespace: 'clc', owner: 'pod-a' });
    await dedup.verify();
    const twice = [...spread, ...[...spread].reverse()];
    const got = await Promise.all(twice.map((id) => dedup.claim(id)));
    const winners = new Map<string, number>();
    for (const o of got) {
      if (held.has(o.id)) expect(o).toMatchObject({ outcome: 'in-progress', owner: 'pod-b' });
      else if (done.has(o.id)) expect(o).toMatchObject({ outcome: 'done', result: `by-b:${o.id}` });
      else if (o.outcome === 'claimed') winners.set(o.id, (winners.get(o.id) ?? 0) + 1);
      else expect(o).toMatchObject({ outcome: 'in-progress', owner: 'pod-a' });
    }
    expect(winners.size).toBe(spread.length - held.size - done.size);
    expect([...winners.values()].every((n) => n === 1)).toBe(true);
    for (const o of got) {
      if (o.outcome === 'claimed') expect(await redis.hget(`clc:${o.id}`, 't')).toBe(o.lease.token);
    }
    await Promise.all([tagged.close(), dedup.close(), other.close()]);
  }, 60_000);

  it('after a failover, claimMany on a client with a stale slot map still answers correctly', async () => {
    // No periodic slot refresh: the client must learn about the failover from MOVED replies.
    const redis = connect({ slotsRefreshInterval: 0 });
    const dedup = new Deduplicator({ redis, namespace: 'clf', owner: 'pod-a', maxBatchSize: SLOTS });
    const ids = idPerSlot('clf').filter((_, slot) => slot % 4 === 0);
    const before = ids.filter((_, i) => i % 2 === 0);
    expect((await dedup.claimMany(before)).every((o) => o.outcome === 'claimed')).toBe(true);
    // Promote the replica of the master that owns slot 0; this client still routes to the old master.
    await cluster.failover(0);
    let retried = 0;
    const target = redis as unknown as Record<string, (...args: unknown[]) => unknown>;
    const claimScript = target.cxkit_dedup_v2_claim!;
    target.cxkit_dedup_v2_claim = function (this: unknown, ...args: unknown[]) {
      if (this === redis) retried++;
      return claimScript.apply(this, args);
    };
    const outcomes = await dedup.claimMany(ids);
    const held = new Set(before);
    for (const o of outcomes) {
      expect(o.outcome).toBe(held.has(o.id) ? 'in-progress' : 'claimed');
    }
    expect(outcomes.map((o) => o.id)).toEqual(ids);
    // Groups whose pipelined call was redirected were re-sent on their own (ioredis follows MOVED).
    expect(retried).toBeGreaterThan(0);
    await dedup.close();
  }, 90_000);
});
