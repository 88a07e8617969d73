import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { type ClaimOutcome, type DedupEvents, Deduplicator } from '../src/index.js';
import { countScripts, type Env, scriptCalls, suiteEnv } from './helpers.js';

let env: Env;
let redis: Redis;

suiteEnv((e) => {
  env = e;
  redis = e.client();
});

/** What a caller can observe of an outcome, without the per-claim token and times. */
function shape(o: ClaimOutcome): unknown {
  if (o.outcome === 'claimed') {
    return { outcome: o.outcome, id: o.id, owner: o.lease.owner, previous: o.lease.previousOwner };
  }
  if (o.outcome === 'in-progress') return { outcome: o.outcome, id: o.id, owner: o.owner };
  return { outcome: o.outcome, id: o.id, owner: o.owner, result: o.result };
}

/** Two pods' worth of state in `namespace`: `done` completed with a result, `held` in progress. */
async function seed(namespace: string): Promise<Deduplicator> {
  const other = new Deduplicator({ redis: env.client(), namespace, owner: 'pod-b' });
  const done = await other.claim('done');
  if (done.outcome === 'claimed') await done.lease.complete({ routedTo: 'agent-7' });
  expect((await other.claim('held')).outcome).toBe('claimed');
  return other;
}

describe('claims made in the same tick share one script call', () => {
  it('mixed winners, in-progress and done: the same outcomes, events and counters as lone claims', async () => {
    const ids = ['f1', 'done', 'f2', 'held', 'f3', 'f4', 'f5'];
    const run = async (namespace: string, together: boolean) => {
      const other = await seed(namespace);
      const dedup = new Deduplicator({ redis, namespace, owner: 'pod-a' });
      await dedup.verify();
      const events: unknown[] = [];
      dedup.on('claimed', (e) => events.push(['claimed', e]));
      dedup.on('duplicate', (e) => events.push(['duplicate', e]));
      const before = await scriptCalls(redis);
      const outcomes: ClaimOutcome[] = [];
      if (together) outcomes.push(...(await Promise.all(ids.map((id) => dedup.claim(id)))));
      else for (const id of ids) outcomes.push(await dedup.claim(id));
      const calls = (await scriptCalls(redis)) - before;
      const stats = dedup.stats();
      await dedup.close();
      await other.close();
      return { outcomes, events, stats, calls };
    };
    const alone = await run('co1a', false);
    const together = await run('co1b', true);
    expect(alone.calls).toBe(ids.length);
    expect(together.calls).toBe(1);
    expect(together.outcomes.map(shape)).toEqual(alone.outcomes.map(shape));
    expect(together.outcomes.map(shape)).toEqual([
      { outcome: 'claimed', id: 'f1', owner: 'pod-a', previous: undefined },
      { outcome: 'done', id: 'done', owner: 'pod-b', result: { routedTo: 'agent-7' } },
      { outcome: 'claimed', id: 'f2', owner: 'pod-a', previous: undefined },
      { outcome: 'in-progress', id: 'held', owner: 'pod-b' },
      ...['f3', 'f4', 'f5'].map((id) => ({ outcome: 'claimed', id, owner: 'pod-a', previous: undefined })),
    ]);
    expect(together.events).toEqual(alone.events);
    expect(together.stats).toEqual(alone.stats);
    // Every coalesced winner holds its own token in Redis, with a server-time lease, and can complete.
    const tokens = new Set<string>();
    for (const o of together.outcomes) {
      if (o.outcome !== 'claimed') continue;
      tokens.add(o.lease.token);
      expect(await redis.hget(`co1b:${o.id}`, 't')).toBe(o.lease.token);
      expect(Number(await redis.hget(`co1b:${o.id}`, 'x'))).toBe(o.lease.expiresAt);
      expect(o.lease.valid).toBe(true);
      expect(await redis.pttl(`co1b:${o.id}`)).toBeGreaterThan(30_000);
    }
    expect(tokens.size).toBe(5);
    const first = together.outcomes[0]!;
    if (first.outcome === 'claimed') await expect(first.lease.complete('ok')).resolves.toBeDefined();
    expect(await redis.hget('co1b:f1', 's')).toBe('d');
  });

  it('the same id twice in one tick has exactly one winner; the other sees it in progress', async () => {
    const dedup = new Deduplicator({ redis, namespace: 'co2', owner: 'pod-a' });
    await dedup.verify();
    const counts = countScripts(redis);
    const outcomes = await Promise.all(['x', 'y', 'x', 'x', 'y'].map((id) => dedup.claim(id)));
    expect(counts).toEqual({ many: 1, one: 0 });
    expect(outcomes.map((o) => `${o.id}:${o.outcome}`)).toEqual([
      'x:claimed',
      'y:claimed',
      'x:in-progress',
      'x:in-progress',
      'y:in-progress',
    ]);
    for (const o of outcomes.slice(2)) expect(o).toMatchObject({ owner: 'pod-a' });
    expect(dedup.stats()).toMatchObject({ claimed: 2, duplicatesInProgress: 3 });
    await dedup.close();
  });

  it('a lone claim in its tick uses the single-id script; a burst is split into calls of at most 1,000', async () => {
    const client = env.client();
    const dedup = new Deduplicator({ redis: client, namespace: 'co3', owner: 'pod-a' });
    await dedup.verify();
    const counts = countScripts(client);
    expect((await dedup.claim('lone')).outcome).toBe('claimed');
    expect(counts).toEqual({ many: 0, one: 1 });
    const ids = Array.from({ length: 2_500 }, (_, i) => `burst-${i}`);
    const outcomes = await Promise.all(ids.map((id) => dedup.claim(id)));
    expect(counts).toEqual({ many: 3, one: 1 });
    expect(outcomes.map((o) => o.id)).toEqual(ids);
    expect(outcomes.every((o) => o.outcome === 'claimed')).toBe(true);
    await dedup.close();
  });

  it('a foreign key fails only its own caller, with the error a lone claim gets', async () => {
    const dedup = new Deduplicator({ redis, namespace: 'co4', owner: 'pod-a' });
    await dedup.verify();
    await redis.set('co4:foreign', 'not a dedup record');
    const alone = await dedup.claim('foreign').catch((e: unknown) => e);
    expect((alone as Error).message).toMatch(/^WRONGTYPE/);
    const before = await scriptCalls(redis);
    const settled = await Promise.allSettled(['a', 'foreign', 'b'].map((id) => dedup.claim(id)));
    expect((await scriptCalls(redis)) - before).toBe(1);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const err = (settled[1] as PromiseRejectedResult).reason as Error;
    expect(err.name).toBe((alone as Error).name);
    expect(err.message).toMatch(/^WRONGTYPE/);
    for (const s of [settled[0], settled[2]]) {
      expect((s as PromiseFulfilledResult<ClaimOutcome>).value.outcome).toBe('claimed');
    }
    expect(await redis.get('co4:foreign')).toBe('not a dedup record');
    // claimMany reports the same error for the batch.
    await expect(dedup.claimMany(['c', 'foreign'])).rejects.toThrow(/^WRONGTYPE/);
    await dedup.close();
  });

  it('a call that fails as a whole rejects every caller in it, and the next tick claims normally', async () => {
    const dedup = new Deduplicator({ redis, namespace: 'co5', owner: 'pod-a' });
    await dedup.verify();
    const lost: DedupEvents['claimed'][] = [];
    dedup.on('claimed', (e) => lost.push(e));
    const admin = env.client();
    await admin.config('SET', 'maxmemory', '1');
    let settled: PromiseSettledResult<ClaimOutcome>[];
    let alone: unknown;
    try {
      alone = await dedup.claim('m0').catch((e: unknown) => e);
      settled = await Promise.allSettled(['m1', 'm2', 'm3'].map((id) => dedup.claim(id)));
    } finally {
      await admin.config('SET', 'maxmemory', '0');
    }
    expect((alone as Error).message).toMatch(/OOM/);
    for (const s of settled) {
      expect(s.status).toBe('rejected');
      expect(((s as PromiseRejectedResult).reason as Error).message).toMatch(/OOM/);
    }
    expect(lost).toEqual([]);
    expect(await redis.keys('co5:*')).toEqual([]);
    const again = await Promise.all(['m1', 'm2', 'm3'].map((id) => dedup.claim(id)));
    expect(again.map((o) => o.outcome)).toEqual(['claimed', 'claimed', 'claimed']);
    await dedup.close();
  });

  it('after SCRIPT FLUSH (a restart or failover), lone and coalesced claims reload their scripts', async () => {
    const dedup = new Deduplicator({ redis, namespace: 'co6', owner: 'pod-a' });
    await dedup.verify();
    await env.client().script('FLUSH');
    expect((await dedup.claim('lone')).outcome).toBe('claimed');
    const outcomes = await Promise.all(['a', 'b', 'lone'].map((id) => dedup.claim(id)));
    expect(outcomes.map((o) => o.outcome)).toEqual(['claimed', 'claimed', 'in-progress']);
    await env.client().script('FLUSH');
    const many = await dedup.claimMany(['c', 'a']);
    expect(many.map((o) => o.outcome)).toEqual(['claimed', 'in-progress']);
    await dedup.close();
  });
});
