import { parseInfo, waitUntil } from '@cxkit/testkit';
import { describe, expect, it } from 'vitest';
import { isLockConflictError, type Lock, type LockManagerOptions } from '../src/index.js';
import { fiveMasters, sleep } from './helpers.js';

// Acquires (and releases) issued in the same tick to a node share one script call. These tests issue
// several in one tick and check each caller still gets its own, correct outcome.

const base = {
  maxTtlMs: 3_000,
  defaultTtlMs: 2_000,
  heartbeatIntervalMs: 200,
  staleAfterMs: 1_000,
  requestTimeoutMs: 500,
} satisfies Partial<LockManagerOptions>;
const { manager, clients, nodes } = fiveMasters(base, { warm: true });

/** Script calls node `index` has run since the last `resetStats(index)`. */
async function scriptCalls(index: number): Promise<number> {
  const stats = parseInfo(await clients[index]!.info('commandstats'));
  const calls = (name: string) => Number(/calls=(\d+)/.exec(stats[name] ?? '')?.[1] ?? 0);
  return calls('cmdstat_evalsha') + calls('cmdstat_eval');
}

describe('same-tick acquires and releases share one script call per node', () => {
  it('mixed outcomes in one batch: free, held by a live owner, stale (overridden), each to its caller', async () => {
    const owner = manager('us-east-1');
    const contender = manager('eu-west-1');
    const held = await owner.acquire('batch:held', { heartbeat: false, ttlMs: 3_000 });
    const stale = await owner.acquire('batch:stale', { heartbeat: false, ttlMs: 3_000 });
    // No heartbeat: by the nodes' clocks the record of batch:stale goes stale after staleAfterMs (its TTL
    // runs longer). batch:held is taken again just before the batch, so it stays live.
    await sleep(base.staleAfterMs + 150);
    await held.release();
    const live = await owner.acquire('batch:held', { heartbeat: false, ttlMs: 3_000 });
    const overrides: string[] = [];
    contender.on('override', (e) => overrides.push(`${e.resource}:${e.previous.token}`));
    await clients[0]!.config('RESETSTAT');
    const results = await Promise.allSettled([
      contender.acquire('batch:free-1', { heartbeat: false }),
      contender.acquire('batch:held', { heartbeat: false }),
      contender.acquire('batch:stale', { heartbeat: false }),
      contender.acquire('batch:free-2', { heartbeat: false }),
    ]);
    // Four separate calls (plus cleanup of the conflicting one) would be at least four here.
    expect(await scriptCalls(0)).toBeLessThanOrEqual(2);
    const [free1, conflict, overridden, free2] = results;
    expect(free1.status).toBe('fulfilled');
    expect(free2.status).toBe('fulfilled');
    expect(overridden.status).toBe('fulfilled');
    expect(conflict.status).toBe('rejected');
    const err = conflict.status === 'rejected' ? conflict.reason : undefined;
    expect(isLockConflictError(err)).toBe(true);
    if (isLockConflictError(err)) expect(err.holder?.token).toBe(live.token);
    expect(overrides).toEqual([`batch:stale:${stale.token}`]);
    const granted = [free1, overridden, free2].map((r) => (r as PromiseFulfilledResult<Lock>).value);
    if (overridden.status === 'fulfilled') expect(overridden.value.fence).toBeGreaterThan(stale.fence);
    expect((await contender.inspect('batch:held')).holder?.token).toBe(live.token);
    // The releases of one tick share a call too, and each reports its own lock.
    await clients[0]!.config('RESETSTAT');
    const released = await Promise.all(granted.map((l) => l.release()));
    expect(released).toEqual(Array.from({ length: 3 }, () => ({ released: true })));
    // A release resolves at the quorum-th reply, so node 0 may still be running it: wait for it, then
    // give a split batch time to show up as a second call.
    await waitUntil('node 0 to run the release batch', async () => (await scriptCalls(0)) >= 1, 2_000, 5);
    await sleep(50);
    expect(await scriptCalls(0)).toBe(1);
    expect(await live.release()).toEqual({ released: true });
    // Its holder already counted it as expired (no heartbeat past its validity).
    expect((await stale.release()).released).toBe(false);
  });

  it('the same resource twice in one tick: one winner, the other conflicts with it', async () => {
    const m = manager('us-east-1');
    for (let round = 0; round < 5; round++) {
      const resource = `batch:twice:${round}`;
      const results = await Promise.allSettled([
        m.acquire(resource, { heartbeat: false }),
        m.acquire(resource, { heartbeat: false }),
        m.acquire(resource, { heartbeat: false }),
      ]);
      const winners = results.filter((r) => r.status === 'fulfilled').map((r) => r.value);
      expect(winners.length).toBe(1);
      for (const r of results) {
        if (r.status === 'fulfilled') continue;
        expect(isLockConflictError(r.reason)).toBe(true);
        if (isLockConflictError(r.reason)) expect(r.reason.holder?.token).toBe(winners[0]!.token);
      }
      expect((await m.inspect(resource)).holder?.token).toBe(winners[0]!.token);
      expect(await winners[0]!.release()).toEqual({ released: true });
    }
  });

  it('more acquires in one tick than one call carries: split over several calls, every one granted', async () => {
    const m = manager('us-east-1');
    const locks = await Promise.all(
      Array.from({ length: 300 }, (_, i) => m.acquire(`batch:many:${i}`, { heartbeat: false })),
    );
    expect(new Set(locks.map((l) => l.resource)).size).toBe(300);
    const released = await Promise.all(locks.map((l) => l.release()));
    expect(released.every((r) => r.released)).toBe(true);
  });

  it('NOSCRIPT after SCRIPT FLUSH: a batch falls back to the script source on every node', async () => {
    const m = manager('us-east-1');
    await Promise.all(clients.slice(0, 5).map((c) => c.script('FLUSH')));
    const locks = await Promise.all(
      Array.from({ length: 8 }, (_, i) => m.acquire(`batch:flush:${i}`, { heartbeat: false })),
    );
    expect(new Set(locks.map((l) => l.token)).size).toBe(8);
    await Promise.all(clients.slice(0, 5).map((c) => c.script('FLUSH')));
    const released = await Promise.all(locks.map((l) => l.release()));
    expect(released.every((r) => r.released)).toBe(true);
    for (const l of locks) expect((await m.inspect(l.resource)).holder).toBeUndefined();
  });

  // Last: it kills a node.
  it('node down mid-batch: every caller of the batch still gets its quorum from the other nodes', async () => {
    const m = manager('us-east-1');
    const pending = Array.from({ length: 12 }, (_, i) =>
      m.acquire(`batch:down:${i}`, { heartbeat: false, ttlMs: 3_000 }),
    );
    // Same tick: the batch for node 4 is queued but not written yet when the node dies.
    const killed = nodes()[4]!.kill();
    const locks = await Promise.all(pending);
    await killed;
    expect(new Set(locks.map((l) => l.resource)).size).toBe(12);
    const views = await Promise.all(locks.map((l) => m.inspect(l.resource)));
    views.forEach((view, i) => {
      expect(view.holder?.token).toBe(locks[i]!.token);
      expect(view.nodes[4]!.reachable).toBe(false);
    });
    const released = await Promise.all(locks.map((l) => l.release()));
    expect(released.every((r) => r.released)).toBe(true);
    const again = await Promise.all(
      Array.from({ length: 6 }, (_, i) => m.acquire(`batch:down:${i}`, { heartbeat: false })),
    );
    for (let i = 0; i < again.length; i++) expect(again[i]!.fence).toBeGreaterThan(locks[i]!.fence);
    await Promise.all(again.map((l) => l.release()));
  });
});
