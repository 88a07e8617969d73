import diagnostics from 'node:diagnostics_channel';
import { parseInfo } from '@cxkit/testkit';
import { describe, expect, it, vi } from 'vitest';
import {
  DIAGNOSTICS_CHANNEL_PREFIX,
  isAcquireTimeoutError,
  isLockConflictError,
  isLockLostError,
  type LockEvents,
  LockManager,
} from '../src/index.js';
import { oneMaster, sleep } from './helpers.js';

const env = oneMaster(1_000);

describe('LockManager on one master', () => {
  it('acquires with owner metadata, conflicts with holder metadata, releases', async () => {
    const seen: string[] = [];
    const subscriptions = (['acquired', 'contended', 'released'] as const).map((event) =>
      env.manager.on(event, (e) => {
        expect(e.latencyMs).toBeGreaterThanOrEqual(0);
        seen.push(event);
      }),
    );
    const lock = await env.manager.acquire('session:1', {
      ttlMs: 2_000,
      operation: 'CRM_UPDATE',
      correlationId: 'req-1',
    });
    expect(lock.resource).toBe('session:1');
    expect(lock.region).toBe('us-east-1');
    expect(lock.fence).toBeGreaterThan(0);
    expect(lock.validUntil).toBeGreaterThan(Date.now());
    expect(lock.signal.aborted).toBe(false);
    const err = await env.manager.acquire('session:1').catch((e: unknown) => e);
    expect(isLockConflictError(err)).toBe(true);
    if (!isLockConflictError(err)) return;
    expect(err.status).toBe(409);
    expect(err.code).toBe('LOCK_CONFLICT');
    expect(err.holder).toMatchObject({
      token: lock.token,
      region: 'us-east-1',
      operation: 'CRM_UPDATE',
      correlationId: 'req-1',
    });
    const view = await env.manager.inspect('session:1');
    expect(view.holder?.token).toBe(lock.token);
    expect(view.holder?.lastHeartbeat).toBeGreaterThan(0);
    expect(await lock.release()).toEqual({ released: true });
    expect(lock.signal.aborted).toBe(true);
    expect(await lock.release()).toEqual({ released: false, reason: 'already-released' });
    expect((await env.manager.inspect('session:1')).holder).toBeUndefined();
    for (const off of subscriptions) off();
    expect(seen).toEqual(['acquired', 'contended', 'released']);
    // The same events on node:diagnostics_channel, for APM agents.
    const published: unknown[] = [];
    const onMessage = (message: unknown) => published.push(message);
    diagnostics.subscribe(`${DIAGNOSTICS_CHANNEL_PREFIX}acquired`, onMessage);
    await (await env.manager.acquire('session:diag')).release();
    diagnostics.unsubscribe(`${DIAGNOSTICS_CHANNEL_PREFIX}acquired`, onMessage);
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({ resource: 'session:diag', attempts: 1 });
  });

  it('fences strictly increase across acquisitions', async () => {
    const fences: number[] = [];
    for (let i = 0; i < 5; i++) {
      await using lock = await env.manager.acquire('fenced');
      fences.push(lock.fence);
    }
    for (let i = 1; i < fences.length; i++) expect(fences[i]!).toBeGreaterThan(fences[i - 1]!);
  });

  it('heartbeats keep a lock past its TTL; release of an expired lock resolves without throwing', async () => {
    const extended: LockEvents['extended'][] = [];
    const off = env.manager.on('extended', (e) => extended.push(e));
    const lock = await env.manager.acquire('hb', { ttlMs: 400 });
    await sleep(1_000);
    off();
    expect(lock.signal.aborted).toBe(false);
    expect(extended.filter((e) => e.token === lock.token).length).toBeGreaterThan(2);
    expect((await env.manager.inspect('hb')).holder?.token).toBe(lock.token);
    await lock.release();

    const once = await env.manager.acquire('expires', { ttlMs: 200, heartbeat: false });
    await sleep(400);
    expect(once.signal.aborted).toBe(true);
    expect(isLockLostError(once.signal.reason)).toBe(true);
    expect(await once.release()).toEqual({ released: false, reason: 'expired' });
  });

  it('extend() with a new TTL and a taken-over release', async () => {
    const lock = await env.manager.acquire('ext', { ttlMs: 300, heartbeat: false });
    const until = await lock.extend(2_000);
    expect(until).toBeGreaterThan(Date.now() + 500);
    // Another owner's live record (expiry 5 s ahead, high-water fence 99).
    await env.clients[1]!.set(
      'cxkit:locks:{ext}',
      `${Date.now() + 5_000} 99 someone-else 99 1 1 15000 0 0 0 `,
    );
    const result = await lock.release();
    expect(result).toEqual({ released: false, reason: 'taken-over' });
    await env.clients[1]!.del('cxkit:locks:{ext}');
  });

  it('a waiter is woken by the release through pub/sub, and waitMs bounds the wait', async () => {
    // Polling only every 8-10 s: a hand-off well before that can only come from the release message.
    const slowPoll = new LockManager({
      nodes: env.clients[0]!,
      retry: { minDelayMs: 8_000, maxDelayMs: 10_000 },
    });
    const holder = await env.manager.acquire('handoff', { ttlMs: 5_000 });
    const waiting = slowPoll.acquire('handoff', { waitMs: 20_000 });
    await sleep(300);
    const releasedAt = performance.now();
    await holder.release();
    const handedOver = await waiting;
    expect(performance.now() - releasedAt).toBeLessThan(4_000);
    expect(handedOver.fence).toBeGreaterThan(holder.fence);
    await handedOver.release();
    await slowPoll.close();
    const next = await env.manager.acquire('handoff', { ttlMs: 5_000 });
    const timedOut = await env.manager.acquire('handoff', { waitMs: 300 }).catch((e: unknown) => e);
    expect(isAcquireTimeoutError(timedOut)).toBe(true);
    const controller = new AbortController();
    const aborted = env.manager
      .acquire('handoff', { waitMs: 10_000, signal: controller.signal })
      .catch((e: unknown) => e);
    await sleep(100);
    controller.abort(new Error('caller gave up'));
    expect(((await aborted) as Error).message).toBe('caller gave up');
    await next.release();
  });

  it('heartbeats are batched: one script call per node per interval for all held locks', async () => {
    const locks = await Promise.all(
      Array.from({ length: 20 }, (_, i) => env.manager.acquire(`batch:${i}`, { ttlMs: 2_000 })),
    );
    const calls = async () => {
      const stats = parseInfo(await env.redis.nodes[0]!.command('INFO', 'commandstats'));
      return Number(/calls=(\d+)/.exec(stats.cmdstat_evalsha ?? '')?.[1] ?? 0);
    };
    const before = await calls();
    await sleep(1_000); // ~10 heartbeat intervals of 100 ms
    const during = (await calls()) - before;
    expect(during).toBeGreaterThan(3);
    expect(during).toBeLessThan(40); // unbatched it would be ~200
    await Promise.all(locks.map((l) => l.release()));
  });

  it('maxHoldMs bounds a runaway holder: its signal aborts and the lock is freed', async () => {
    const lock = await env.manager.acquire('runaway', { ttlMs: 1_000, maxHoldMs: 500 });
    await new Promise((resolve) => lock.signal.addEventListener('abort', resolve));
    expect((lock.signal.reason as { reason: string }).reason).toBe('max-hold');
    await sleep(200);
    expect((await env.manager.inspect('runaway')).holder).toBeUndefined();
    expect(await lock.release()).toEqual({ released: false, reason: 'expired' });
  });

  it('a lock dropped at maxHoldMs is released once, also when its holder releases it afterwards', async () => {
    const lock = await env.manager.acquire('runaway:once', {
      ttlMs: 1_000,
      maxHoldMs: 300,
      heartbeat: false,
    });
    await env.clients[1]!.config('RESETSTAT');
    await new Promise((resolve) => lock.signal.addEventListener('abort', resolve));
    expect(await lock.release()).toEqual({ released: false, reason: 'expired' });
    await sleep(50);
    const stats = parseInfo(await env.clients[1]!.info('commandstats'));
    const count = (name: string, field: string) =>
      Number(new RegExp(`\\b${field}=(\\d+)`).exec(stats[name] ?? '')?.[1] ?? 0);
    // A call by SHA that the node refused (NOSCRIPT: not loaded yet) is sent again as EVAL.
    const scriptCalls =
      count('cmdstat_evalsha', 'calls') -
      count('cmdstat_evalsha', 'failed_calls') +
      count('cmdstat_eval', 'calls');
    expect(scriptCalls).toBe(1);
  });

  it('an election leads with no max hold: its lock is asked with maxHoldMs Infinity, which acquire() accepts', async () => {
    // A finite stand-in (the largest timer delay) would demote every leader after 24.8 days.
    const acquire = vi.spyOn(env.manager, 'acquire');
    try {
      let elected!: (lock: unknown) => void;
      const leading = new Promise((resolve) => {
        elected = resolve;
      });
      const election = env.manager.elect('no-max-hold', { onElected: (lock) => elected(lock) });
      await leading;
      expect(election.isLeader).toBe(true);
      expect(acquire.mock.calls[0]![1]).toMatchObject({ maxHoldMs: Infinity });
      await election.stop();
    } finally {
      acquire.mockRestore();
    }
    const lock = await env.manager.acquire('unbounded', { ttlMs: 1_000, maxHoldMs: Infinity });
    expect(lock.signal.aborted).toBe(false);
    expect(await lock.release()).toEqual({ released: true });
  });

  it('withLock always releases and survives a script cache flush (NOSCRIPT fallback)', async () => {
    await env.clients[1]!.script('FLUSH');
    const value = await env.manager.withLock('with', async (lock) => {
      expect(lock.signal.aborted).toBe(false);
      return 42;
    });
    expect(value).toBe(42);
    await expect(
      env.manager.withLock('with', async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect((await env.manager.inspect('with')).holder).toBeUndefined();
  });

  it('withLock rejects with LockLostError when the record vanished while held (an eviction, a failover)', async () => {
    const err = await env.manager
      .withLock('with:vanished', () => env.clients[1]!.del('cxkit:locks:{with:vanished}'), {
        heartbeat: false,
      })
      .catch((e: unknown) => e);
    expect(isLockLostError(err) && err.reason).toBe('expired');
  });

  it('withLock rejects with LockLostError when fn kept the event loop busy past the lock validity', async () => {
    const started = performance.now();
    const err = await env.manager
      .withLock(
        'with:busy',
        async () => {
          // Synchronous work: no timer (expiry, heartbeat) can run until fn returns.
          while (performance.now() - started < 700);
          return 'done';
        },
        { ttlMs: 400, heartbeat: false },
      )
      .catch((e: unknown) => e);
    expect(isLockLostError(err) && err.reason).toBe('expired');
    expect((await env.manager.inspect('with:busy')).holder).toBeUndefined();
  });
});
