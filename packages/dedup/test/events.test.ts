import diagnostics from 'node:diagnostics_channel';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { Deduplicator, diagnosticsChannels, isDedupClosedError } from '../src/index.js';
import { deferred, type Env, suiteEnv } from './helpers.js';

let env: Env;
let redis: Redis;

suiteEnv((e) => {
  env = e;
  redis = e.client();
});

describe('events, counters and lifecycle', () => {
  it('emits typed events in order; on() returns a disposable; counters match', async () => {
    const warnings: unknown[] = [];
    const logger = { warn: (obj: object) => warnings.push(obj), error: (obj: object) => warnings.push(obj) };
    const a = new Deduplicator({ redis, namespace: 'ev', owner: 'pod-a', logger });
    const b = new Deduplicator({ redis: env.client(), namespace: 'ev', owner: 'pod-b' });
    const seen: string[] = [];
    const names = ['claimed', 'duplicate', 'done', 'released', 'lease-expired'] as const;
    const subs = names.map((name) => a.on(name, (e) => seen.push(`${name}:${e.id}`)));
    const throwing = a.on('done', () => {
      throw new Error('listener bug');
    });

    await a.process('ok', () => 1);
    await a.process('ok', () => 2);
    await a.process('fails', () => Promise.reject(new Error('x'))).catch(() => {});
    const held = await b.claim('held');
    await a.process('held', () => 3);
    expect(seen).toEqual([
      'claimed:ok',
      'done:ok',
      'duplicate:ok',
      'claimed:fails',
      'released:fails',
      'duplicate:held',
    ]);
    expect(warnings).toHaveLength(1);
    expect(a.stats()).toMatchObject({
      claimed: 2,
      done: 1,
      released: 1,
      duplicatesDone: 1,
      duplicatesInProgress: 1,
    });

    for (const sub of subs) sub.dispose();
    throwing[Symbol.dispose]();
    await a.process('after', () => 4);
    expect(seen).toHaveLength(6);
    if (held.outcome === 'claimed') await held.lease.release();
    await a.close();
    await b.close();
  });

  it('close() refuses new work with DedupClosedError and leaves the caller’s client open', async () => {
    const dedup = new Deduplicator({ redis, namespace: 'ev2' });
    await dedup.claim('m');
    await dedup.close();
    await dedup.close();
    await expect(dedup.claim('n')).rejects.toSatisfy(isDedupClosedError);
    expect(await redis.ping()).toBe('PONG');
  });

  it('close() while a handler runs: no more heartbeats, and its signal aborts once the lease lapses', async () => {
    const a = new Deduplicator({ redis, namespace: 'ev4', owner: 'pod-a', leaseMs: 1_000 });
    const b = new Deduplicator({ redis, namespace: 'ev4', owner: 'pod-b', leaseMs: 1_000 });
    const began = deferred();
    let abortedAt = 0;
    const gate = deferred();
    const running = a.process('m', async ({ signal }) => {
      signal.addEventListener('abort', () => {
        abortedAt = performance.now();
      });
      began.resolve();
      await gate.promise;
      return 'late';
    });
    await began.promise;
    const closedAt = performance.now();
    await a.close(); // SIGTERM: the pod drains while the handler still runs
    await sleep(1_500);
    expect(abortedAt).toBeGreaterThan(closedAt);
    expect(abortedAt - closedAt).toBeLessThan(1_500);
    // Another consumer takes it over, as it may once the lease lapsed.
    expect(await b.process('m', () => 'taken over')).toMatchObject({
      status: 'processed',
      result: 'taken over',
    });
    gate.resolve();
    await running.catch(() => {});
    await b.close();
  });

  it('publishes every event on node:diagnostics_channel for process-wide observers', async () => {
    const seen: unknown[] = [];
    const onClaimed = (message: unknown) => seen.push(message);
    diagnostics.subscribe(diagnosticsChannels.claimed, onClaimed);
    try {
      const dedup = new Deduplicator({ redis, namespace: 'ev3', owner: 'pod-dc' });
      await dedup.claim('m');
      expect(seen).toEqual([{ id: 'm', owner: 'pod-dc' }]);
      await dedup.close();
    } finally {
      diagnostics.unsubscribe(diagnosticsChannels.claimed, onClaimed);
    }
  });
});
