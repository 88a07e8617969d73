import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { type ClaimOutcome, type DedupEvents, Deduplicator } from '../src/index.js';
import { deferred, type Env, scriptCalls, suiteEnv } from './helpers.js';

let env: Env;
let redis: Redis;

suiteEnv((e) => {
  env = e;
  redis = e.client();
});

describe('claim', () => {
  it('first claim wins with an owner token; repeats see in-progress, then done with the result', async () => {
    const a = new Deduplicator({ redis, namespace: 'c1', owner: 'pod-a' });
    const b = new Deduplicator({ redis: env.client(), namespace: 'c1', owner: 'pod-b' });
    const first = await a.claim('call-1');
    expect(first.outcome).toBe('claimed');
    if (first.outcome !== 'claimed') return;
    expect(first.lease.token).toMatch(/\S+/);
    expect(first.lease.owner).toBe('pod-a');
    expect(await redis.hget('c1:call-1', 't')).toBe(first.lease.token);

    const second = await b.claim('call-1');
    expect(second).toMatchObject({ outcome: 'in-progress', owner: 'pod-a' });
    if (second.outcome === 'in-progress') {
      expect(second.leaseRemainingMs).toBeGreaterThan(25_000);
      expect(second.leaseRemainingMs).toBeLessThanOrEqual(30_000);
    }

    const { completedAt } = await first.lease.complete({ routedTo: 'agent-7' });
    const third = await b.claim('call-1');
    expect(third).toEqual({
      outcome: 'done',
      id: 'call-1',
      owner: 'pod-a',
      completedAt,
      result: { routedTo: 'agent-7' },
    });
    const ttl = await redis.pttl('c1:call-1');
    expect(ttl).toBeGreaterThan(55_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    await a.close();
    await b.close();
  });

  it('claimMany: one script call on a single master, outcomes in input order', async () => {
    const dedup = new Deduplicator({ redis, namespace: 'c2', owner: 'pod-a' });
    await dedup.verify();
    const held = await dedup.claim('m-1');
    if (held.outcome === 'claimed') await held.lease.complete('r1');
    await dedup.claim('m-2');
    const ids = Array.from({ length: 1000 }, (_, i) => `m-${i}`);
    const before = await scriptCalls(redis);
    const outcomes = await dedup.claimMany(ids);
    expect(await scriptCalls(redis)).toBe(before + 1);
    expect(outcomes.map((o) => o.id)).toEqual(ids);
    expect(outcomes[0]!.outcome).toBe('claimed');
    expect(outcomes[1]).toMatchObject({ outcome: 'done', result: 'r1' });
    expect(outcomes[2]!.outcome).toBe('in-progress');
    expect(outcomes.slice(3).every((o) => o.outcome === 'claimed')).toBe(true);
    const tokens = new Set(
      outcomes.flatMap((o: ClaimOutcome) => (o.outcome === 'claimed' ? [o.lease.token] : [])),
    );
    expect(tokens.size).toBe(998);
    await dedup.close();
  });

  it('a lapsed lease is taken over by the next claimer, reported as lease-expired with the dead owner', async () => {
    const dead = new Deduplicator({ redis, namespace: 'c3', owner: 'pod-dead', leaseMs: 300 });
    const taker = new Deduplicator({ redis: env.client(), namespace: 'c3', owner: 'pod-live', leaseMs: 300 });
    const seen: DedupEvents['lease-expired'][] = [];
    taker.on('lease-expired', (e) => seen.push(e));
    const won = await dead.claim('x');
    expect(won.outcome).toBe('claimed');
    expect((await taker.claim('x')).outcome).toBe('in-progress');
    await sleep(400);
    const took = await taker.claim('x');
    expect(took.outcome).toBe('claimed');
    if (took.outcome === 'claimed') expect(took.lease.previousOwner).toBe('pod-dead');
    expect(seen).toEqual([{ id: 'x', owner: 'pod-dead', detectedBy: 'takeover' }]);
    expect(taker.stats()).toMatchObject({
      claimed: 1,
      takeovers: 1,
      duplicatesInProgress: 1,
      leaseExpired: 1,
    });
    // The dead winner's token no longer completes or releases anything.
    if (won.outcome === 'claimed') {
      await expect(won.lease.complete('late')).rejects.toMatchObject({ code: 'DEDUP_LEASE_LOST' });
      expect(await won.lease.release()).toBe(false);
    }
    expect(await redis.hget('c3:x', 'o')).toBe('pod-live');
    await dead.close();
    await taker.close();
  });

  it('waits for results on a client without an offline queue, or a lazily connecting one', async () => {
    // One without an offline queue, one that connects lazily (its duplicate too).
    const ra = new Redis(env.url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    const rb = new Redis(env.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    if (ra.status !== 'ready') await once(ra, 'ready');
    const a = new Deduplicator({ redis: ra, namespace: 'strict', owner: 'pod-a' });
    const b = new Deduplicator({ redis: rb, namespace: 'strict', owner: 'pod-b' });
    const gate = deferred();
    const began = deferred();
    const winning = a.process('m', async () => {
      began.resolve();
      await gate.promise;
      return 'ok';
    });
    await began.promise;
    const waiting = b.process('m', () => 'never', { waitForResult: 10_000 });
    await sleep(100);
    gate.resolve();
    await winning;
    expect(await waiting).toMatchObject({ status: 'duplicate', state: 'done', result: 'ok' });
    await Promise.all([a.close(), b.close()]);
    ra.disconnect();
    rb.disconnect();
  });

  it('honours an ioredis keyPrefix for records and for waking waiters', async () => {
    const prefixed = () => new Redis(env.url, { keyPrefix: 'tenant-a:' });
    const [ra, rb] = [prefixed(), prefixed()];
    const a = new Deduplicator({ redis: ra, namespace: 'kp', owner: 'pod-a' });
    const b = new Deduplicator({ redis: rb, namespace: 'kp', owner: 'pod-b' });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const began = deferred();
    const winning = a.process('m', async () => {
      began.resolve();
      await gate;
      return 'ok';
    });
    await began.promise;
    const waiting = b.process('m', () => 'never', { waitForResult: 10_000 });
    await sleep(100);
    release();
    await winning;
    expect(await waiting).toMatchObject({ status: 'duplicate', state: 'done', result: 'ok' });
    expect(await redis.exists('tenant-a:kp:m')).toBe(1);
    await Promise.all([a.close(), b.close()]);
    ra.disconnect();
    rb.disconnect();
  });
});
