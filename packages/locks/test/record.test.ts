import { waitUntil } from '@cxkit/testkit';
import { describe, expect, it } from 'vitest';
import { isLockLostError, isQuorumUnavailableError, type Lock } from '../src/index.js';
import { oneMaster } from './helpers.js';

const RETENTION_MS = 60_000;
const env = oneMaster(1_000, { recordRetentionMs: RETENTION_MS });

const key = (resource: string) => `cxkit:locks:{${resource}}`;

/** The node's current second x 10^6: the floor of every fence it grants now. */
async function secondFloor(): Promise<number> {
  const [seconds] = await env.clients[1]!.time();
  return Number(seconds) * 1_000_000;
}

/** A high-water fence an hour ahead of the node's clock, so grants continue from it, not from the clock. */
async function futureFence(): Promise<number> {
  return (await secondFloor()) + 3_600_000_000 + 7;
}

describe('lock record layout', () => {
  it('a release leaves only the high-water fence for the retention, and the next grant continues from it', async () => {
    const hw = await futureFence();
    await env.clients[1]!.set(key('rec:fence'), `0 ${hw}`);
    const first = await env.manager.acquire('rec:fence', { heartbeat: false, operation: 'WFM_WRITE' });
    expect(first.fence).toBe(hw + 1);
    const live = (await env.clients[1]!.get(key('rec:fence')))!.split(' ');
    expect(live.slice(1, 4)).toEqual([String(first.fence), first.token, String(first.fence)]);
    // Expiry is the node's TIME + ttl, judged by the scripts; Redis removes the record only a retention later.
    expect(Number(live[0])).toBeGreaterThan(Date.now());
    const heldTtl = await env.clients[1]!.pttl(key('rec:fence'));
    expect(heldTtl).toBeGreaterThan(RETENTION_MS);
    expect(heldTtl).toBeLessThanOrEqual(RETENTION_MS + 15_000);
    expect(await first.release()).toEqual({ released: true });
    expect(await env.clients[1]!.get(key('rec:fence'))).toBe(`0 ${first.fence}`);
    // Released, it keeps the rest of the lock's TTL plus the retention.
    const releasedTtl = await env.clients[1]!.pttl(key('rec:fence'));
    expect(releasedTtl).toBeGreaterThan(RETENTION_MS);
    expect(releasedTtl).toBeLessThanOrEqual(heldTtl);
    const second = await env.manager.acquire('rec:fence', { heartbeat: false });
    expect(second.fence).toBe(first.fence + 1);
    await second.release();
  });

  it("a resource without a record starts at the node's second x 10^6, and restarts above its last fence once the record is gone", async () => {
    const before = await secondFloor();
    const first = await env.manager.acquire('rec:seed', { heartbeat: false });
    const after = await secondFloor();
    expect(first.fence).toBeGreaterThanOrEqual(before);
    expect(first.fence).toBeLessThanOrEqual(after);
    expect(first.fence % 1_000_000).toBe(0);
    await first.release();
    // Redis removing the record after its retention, then a grant in a later second.
    await env.clients[1]!.del(key('rec:seed'));
    while ((await secondFloor()) <= first.fence) await new Promise((r) => setTimeout(r, 50));
    const second = await env.manager.acquire('rec:seed', { heartbeat: false });
    expect(second.fence).toBeGreaterThan(first.fence);
    expect(second.fence % 1_000_000).toBe(0);
    await second.release();
  });

  it('an expired record is free again and keeps counting fences', async () => {
    const hw = await futureFence();
    await env.clients[1]!.set(key('rec:expired'), `0 ${hw}`);
    const first = await env.manager.acquire('rec:expired', { ttlMs: 150, heartbeat: false });
    await new Promise((r) => setTimeout(r, 300));
    const second = await env.manager.acquire('rec:expired', { heartbeat: false });
    expect([first.fence, second.fence]).toEqual([hw + 1, hw + 2]);
    expect(await first.release()).toEqual({ released: false, reason: 'expired' });
    expect((await env.manager.inspect('rec:expired')).holder?.token).toBe(second.token);
    await second.release();
  });

  it('a release after the event loop was blocked past the TTL reports expired, not released', async () => {
    const hw = await futureFence();
    await env.clients[1]!.set(key('rec:blocked'), `0 ${hw}`);
    const lock = await env.manager.acquire('rec:blocked', { ttlMs: 150, heartbeat: false });
    // Blocked synchronously: the lock's own expiry timer cannot fire before release() runs.
    const until = Date.now() + 300;
    while (Date.now() < until) {}
    expect(await lock.release()).toEqual({ released: false, reason: 'expired' });
    // The record is still marked released, so the next acquisition continues the fence.
    expect(await env.clients[1]!.pttl(key('rec:blocked'))).toBeGreaterThan(RETENTION_MS - 1_000);
    const next = await env.manager.acquire('rec:blocked', { heartbeat: false });
    expect(next.fence).toBe(lock.fence + 1);
    expect(await next.release()).toEqual({ released: true });
  });

  it('a heartbeat that finds the record gone (another owner came and went) loses the lock, and the fence continues', async () => {
    const lock = await env.manager.acquire('rec:reclaim', { ttlMs: 2_000 });
    // The node forgot the holder (eviction, failover to a replica without it) and another owner took
    // the lock and released it meanwhile: its record is "released" with a later fence.
    const later = (await futureFence()) + 5;
    await env.clients[1]!.set(key('rec:reclaim'), `0 ${later}`);
    await waitUntil('lock lost', async () => lock.signal.aborted, 2_000, 20);
    expect(isLockLostError(lock.signal.reason) && lock.signal.reason.reason).toBe('expired');
    // What the heartbeat wrote again is released, keeping the later high-water fence.
    await waitUntil(
      'record released again',
      async () => (await env.clients[1]!.get(key('rec:reclaim'))) === `0 ${later}`,
      2_000,
      20,
    );
    expect(await lock.release()).toEqual({ released: false, reason: 'expired' });
    const next = await env.manager.acquire('rec:reclaim', { heartbeat: false });
    expect(next.fence).toBe(later + 1);
    await next.release();
  });

  it('withLock rejects when a heartbeat found the record gone: the section may not have been exclusive', async () => {
    const running = env.manager.withLock('rec:reclaim-with', async (lock) => {
      await env.clients[1]!.del(key('rec:reclaim-with'));
      await waitUntil('heartbeat', async () => lock.signal.aborted, 2_000, 20);
      return 'done';
    });
    await expect(running).rejects.toMatchObject({ code: 'LOCK_LOST', reason: 'expired' });
    expect(await env.clients[1]!.get(key('rec:reclaim-with'))).toMatch(/^0 \d+$/);
  });

  it("a heartbeat moves the record's removal along with its expiry", async () => {
    const lock = await env.manager.acquire('rec:beat', { ttlMs: 2_000 });
    // A record written without a TTL (by an older version) gets one on the next heartbeat.
    await env.clients[1]!.persist(key('rec:beat'));
    await new Promise((r) => setTimeout(r, 300));
    const ttl = await env.clients[1]!.pttl(key('rec:beat'));
    expect(ttl).toBeGreaterThan(RETENTION_MS + 1_500);
    expect(ttl).toBeLessThanOrEqual(RETENTION_MS + 2_000);
    expect(await lock.release()).toEqual({ released: true });
  });

  it('owner metadata in any script (byte lengths, not characters) reads back and reaches the override audit', async () => {
    const first = await env.manager.acquire('rec:meta', {
      ttlMs: 2_000,
      heartbeat: false,
      operation: 'CRM_UPDATE_ñ',
      correlationId: '呼叫-42 🙂',
    });
    const view = await env.manager.inspect('rec:meta');
    expect(view.holder).toMatchObject({
      token: first.token,
      region: 'us-east-1',
      operation: 'CRM_UPDATE_ñ',
      correlationId: '呼叫-42 🙂',
      fence: first.fence,
    });
    // No heartbeat: past staleAfterMs (1 s) a contender overrides it, and the audit names both owners.
    await new Promise((r) => setTimeout(r, 1_100));
    const second = await env.manager.acquire('rec:meta', {
      heartbeat: false,
      operation: 'ÉTAPE',
      correlationId: 'ü',
    });
    const entries = await env.clients[1]!.xrange('cxkit:locks:audit', '-', '+');
    const fields = Object.fromEntries(
      (entries.at(-1)![1] as string[]).flatMap((v, i, all) => (i % 2 === 0 ? [[v, all[i + 1]]] : [])),
    );
    expect(fields).toMatchObject({
      resource: 'rec:meta',
      prevToken: first.token,
      prevOperation: 'CRM_UPDATE_ñ',
      prevCorrelationId: '呼叫-42 🙂',
      token: second.token,
      operation: 'ÉTAPE',
      correlationId: 'ü',
      // The threshold the holder's heartbeat age passed (the longer of both managers' staleAfterMs).
      staleAfterMs: '1000',
    });
    expect(Number(fields.heartbeatAgeMs)).toBeGreaterThan(Number(fields.staleAfterMs));
    expect((await env.manager.inspect('rec:meta')).holder?.operation).toBe('ÉTAPE');
    await second.release();
  });

  it('a record in another layout fails only its own lock, even in a shared batch, and is left as it was', async () => {
    const old = 'tok-from-an-older-layout 7 1 1 0 0 0 ';
    // Starts like a record of this layout (a live expiry, a fence), then is not one.
    const damaged = `${Date.now() + 60_000} 5 junk`;
    await env.clients[1]!.set(key('rec:old'), old);
    await env.clients[1]!.set(key('rec:damaged'), damaged);
    // Issued in one tick, so all three go to the node in one acquire script call.
    const [bad, worse, good] = await Promise.allSettled([
      env.manager.acquire('rec:old', { heartbeat: false }),
      env.manager.acquire('rec:damaged', { heartbeat: false }),
      env.manager.acquire('rec:fine', { heartbeat: false }),
    ]);
    for (const failed of [bad, worse]) {
      expect(failed.status).toBe('rejected');
      const err = (failed as PromiseRejectedResult).reason;
      expect(isQuorumUnavailableError(err)).toBe(true);
      expect(String((err as { nodes: { error?: unknown }[] }).nodes[0]?.error)).toContain('CXKIT_LAYOUT');
    }
    expect(await env.clients[1]!.get(key('rec:old'))).toBe(old);
    expect(await env.clients[1]!.get(key('rec:damaged'))).toBe(damaged);
    // Reading one fails that node's inspect() call with the same code.
    const seen = await env.manager.inspect('rec:damaged');
    expect(String(seen.nodes[0]?.error ?? '')).toContain('CXKIT_LAYOUT');
    expect(good.status).toBe('fulfilled');
    const fine = (good as PromiseFulfilledResult<Lock>).value;
    // A release that meets another layout's record reports it unreleased, beside a normal release.
    const other = await env.manager.acquire('rec:other', { heartbeat: false });
    await env.clients[1]!.set(key('rec:other'), old);
    expect(await Promise.all([other.release(), fine.release()])).toEqual([
      { released: false, reason: 'unreachable' },
      { released: true },
    ]);
    expect(await env.clients[1]!.get(key('rec:other'))).toBe(old);
  });
});
