import { getEventListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitUntil } from '@cxkit/testkit';
import type { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type DedupEvents,
  Deduplicator,
  type DeduplicatorOptions,
  isDedupClosedError,
  isLeaseLostError,
  isWaitTimeoutError,
  isWinnerFailedError,
} from '../src/index.js';
import { deferred, type Env, suiteEnv } from './helpers.js';

let env: Env;
let redis: Redis;
const open: Deduplicator[] = [];

suiteEnv((e) => {
  env = e;
  redis = e.client();
});
// Registered after suiteEnv, so it runs before the server stops (after-hooks run in reverse).
afterAll(() => Promise.all(open.map((d) => d.close())));

/** A deduplicator on its own connection (a separate pod). */
function pod(namespace: string, owner: string, options: Partial<DeduplicatorOptions> = {}): Deduplicator {
  const d = new Deduplicator({ redis: env.client(), namespace, owner, ...options });
  open.push(d);
  return d;
}

describe('process: failures and redelivery', () => {
  it('a throwing handler releases the claim and rethrows; the next delivery processes the message', async () => {
    const a = pod('p1', 'pod-a');
    const b = pod('p1', 'pod-b');
    const released: DedupEvents['released'][] = [];
    a.on('released', (e) => released.push(e));
    const boom = new Error('CRM timed out');
    await expect(a.process('call-9', () => Promise.reject(boom))).rejects.toBe(boom);
    expect(released).toEqual([{ id: 'call-9', owner: 'pod-a', reason: 'handler-failed' }]);
    expect(await redis.exists('p1:call-9')).toBe(0);

    const again = await b.process('call-9', () => 'synced');
    expect(again).toMatchObject({ status: 'processed', result: 'synced' });
    expect(await a.process('call-9', () => 'never')).toMatchObject({
      status: 'duplicate',
      state: 'done',
      owner: 'pod-b',
      result: 'synced',
    });
  });

  it('a handler that gives its lease back is not marked done; one that completes it is done once', async () => {
    const a = pod('p-own', 'pod-a');
    const b = pod('p-own', 'pod-b');
    const done: DedupEvents['done'][] = [];
    a.on('done', (e) => done.push(e));
    // Handed to another consumer: the next delivery must run it.
    expect(
      await a.process('handed', async ({ lease }) => {
        await lease.release();
        return 'not mine';
      }),
    ).toMatchObject({ status: 'processed', completedAt: undefined });
    expect(await redis.exists('p-own:handed')).toBe(0);
    expect(await b.process('handed', () => 'run again')).toMatchObject({
      status: 'processed',
      result: 'run again',
    });
    // Completed by the handler itself: one done marker and one event, its own result kept.
    const completed = await a.process('self', async ({ lease }) => {
      await lease.complete('from the handler');
      return 'returned';
    });
    expect(completed).toMatchObject({ status: 'processed', completedAt: expect.any(Number) });
    expect(done.filter((e) => e.id === 'self')).toHaveLength(1);
    expect(await b.process('self', () => 'never')).toMatchObject({
      status: 'duplicate',
      state: 'done',
      result: 'from the handler',
    });
  });

  it('a done message is never re-run within the window; after the window it may run again', async () => {
    const a = pod('p2', 'pod-a', { windowMs: 600 });
    const b = pod('p2', 'pod-b', { windowMs: 600 });
    let runs = 0;
    const handler = () => ++runs;
    expect(await a.process('m', handler)).toMatchObject({ status: 'processed', result: 1 });
    for (let i = 0; i < 5; i++) {
      expect(await b.process('m', handler)).toMatchObject({ status: 'duplicate', state: 'done', result: 1 });
    }
    expect(runs).toBe(1);
    await sleep(700);
    // The done marker expired with the window: a late redelivery is indistinguishable from a new message.
    expect(await b.process('m', handler)).toMatchObject({ status: 'processed', result: 2 });
    expect(runs).toBe(2);
  });

  it('aborts the handler signal with LeaseLostError when the lease is taken from it', async () => {
    const a = pod('p3', 'pod-a', { leaseMs: 1_000, heartbeatIntervalMs: 100 });
    const lost: DedupEvents['lease-expired'][] = [];
    a.on('lease-expired', (e) => lost.push(e));
    const outcome = await a.process('m', async ({ signal }) => {
      // Another claimer overwrote the record (e.g. after this pod stalled past its lease).
      await redis.hset('p3:m', 't', 'someone-else', 'o', 'pod-x');
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      expect(isLeaseLostError(signal.reason)).toBe(true);
      return 'stopped';
    });
    expect(outcome).toEqual({ status: 'processed', result: 'stopped', completedAt: undefined });
    expect(lost).toEqual([{ id: 'm', owner: 'pod-a', detectedBy: 'heartbeat' }]);
    expect(await redis.hget('p3:m', 'o')).toBe('pod-x');
  });
  it('a caller signal shared by many messages keeps no listeners once they finish', async () => {
    const a = pod('p4', 'pod-a');
    const shutdown = new AbortController();
    let sawSignal = false;
    for (let i = 0; i < 50; i++) {
      await a.process(
        `m-${i}`,
        ({ signal }) => {
          sawSignal ||= signal !== shutdown.signal && !signal.aborted;
          return i;
        },
        { signal: shutdown.signal },
      );
    }
    await a
      .process('fails', () => Promise.reject(new Error('x')), { signal: shutdown.signal })
      .catch(() => {});
    await a.process('m-0', () => 0, { signal: shutdown.signal, waitForResult: 1_000 });
    expect(sawSignal).toBe(true);
    expect(getEventListeners(shutdown.signal, 'abort')).toHaveLength(0);
  });
});

describe('process: waitForResult', () => {
  it('losers are woken by the winner finishing and receive its result', async () => {
    const winner = pod('w1', 'pod-a');
    const losers = [pod('w1', 'pod-b'), pod('w1', 'pod-c')];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const began = deferred();
    const winning = winner.process('call-1', async () => {
      began.resolve();
      await gate;
      return { agent: 'a-7' };
    });
    await began.promise;
    const started = performance.now();
    const waiting = losers.map((l) => l.process('call-1', () => 'never', { waitForResult: 10_000 }));
    await sleep(200);
    release();
    expect(await winning).toMatchObject({ status: 'processed', result: { agent: 'a-7' } });
    for (const outcome of await Promise.all(waiting)) {
      expect(outcome).toMatchObject({
        status: 'duplicate',
        state: 'done',
        owner: 'pod-a',
        result: { agent: 'a-7' },
      });
    }
    // Woken by the notification, not by re-reading at the 30 s lease expiry.
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(losers[0]!.stats()).toMatchObject({ waits: 1, waitsResolved: 1 });
  });

  it('a loser whose subscriber reconnects re-reads the record instead of waiting for the lease', async () => {
    const winner = pod('w5', 'pod-a');
    const loser = pod('w5', 'pod-b');
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const began = deferred();
    const winning = winner.process('m', async () => {
      began.resolve();
      await gate;
      return 'after reconnect';
    });
    await began.promise;
    const started = performance.now();
    const waiting = loser.process('m', () => 'never', { waitForResult: 20_000 });
    await waitUntil(
      'the loser to subscribe',
      async () => (await redis.pubsub('NUMSUB', 'w5:__events'))[1] === 1,
    );
    // Drop the subscriber connection and finish while it reconnects: the notification is lost.
    await redis.client('KILL', 'TYPE', 'pubsub');
    release();
    await winning;
    expect(await waiting).toMatchObject({ status: 'duplicate', state: 'done', result: 'after reconnect' });
    // Well before the 30 s lease re-read.
    expect(performance.now() - started).toBeLessThan(15_000);
  });

  it('a winner that fails wakes losers with WinnerFailedError (released), not a hang', async () => {
    const winner = pod('w2', 'pod-a');
    const loser = pod('w2', 'pod-b');
    const began = deferred();
    const winning = winner.process('m', async () => {
      began.resolve();
      await sleep(200);
      throw new Error('downstream 500');
    });
    await began.promise;
    const waiting = loser.process('m', () => 'never', { waitForResult: 20_000 });
    await expect(winning).rejects.toThrow('downstream 500');
    const err = await waiting.catch((e: unknown) => e);
    expect(isWinnerFailedError(err)).toBe(true);
    expect(err).toMatchObject({
      code: 'DEDUP_WINNER_FAILED',
      status: 409,
      reason: 'released',
      owner: 'pod-a',
    });
    expect(loser.stats().waitsFailed).toBe(1);
  });

  it('a winner that died (no heartbeat) fails waiting losers once its lease lapses', async () => {
    const dead = pod('w3', 'pod-dead', { leaseMs: 400 });
    const loser = pod('w3', 'pod-b', { leaseMs: 400 });
    expect((await dead.claim('m')).outcome).toBe('claimed');
    const err = await loser.process('m', () => 'never', { waitForResult: 20_000 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'DEDUP_WINNER_FAILED', reason: 'lease-expired', owner: 'pod-dead' });
    // Claiming again now takes it over.
    expect(await loser.process('m', () => 'taken over')).toMatchObject({ status: 'processed' });
  });

  it('times out with WaitTimeoutError while the winner is still alive; abort and close end waits', async () => {
    const winner = pod('w4', 'pod-a');
    const loser = pod('w4', 'pod-b');
    let release!: () => void;
    const began = deferred();
    const winning = winner.process('m', () => {
      began.resolve();
      return new Promise<string>((r) => {
        release = () => r('late');
      });
    });
    await began.promise;
    const err = await loser.process('m', () => 'never', { waitForResult: 200 }).catch((e: unknown) => e);
    expect(isWaitTimeoutError(err)).toBe(true);
    expect(err).toMatchObject({ code: 'DEDUP_WAIT_TIMEOUT', status: 504, owner: 'pod-a' });

    const controller = new AbortController();
    const aborted = loser.process('m', () => 'never', { waitForResult: 20_000, signal: controller.signal });
    setTimeout(() => controller.abort(new Error('shutting down')), 100);
    await expect(aborted).rejects.toThrow('shutting down');

    const closing = loser.process('m', () => 'never', { waitForResult: 20_000 }).catch((e: unknown) => e);
    await sleep(100);
    await loser.close();
    expect(isDedupClosedError(await closing)).toBe(true);
    release();
    await winning;
  });
});
