import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { spawnTs, waitUntil } from '@cxkit/testkit';
import { describe, expect, it } from 'vitest';
import { type DedupEvents, Deduplicator, isLeaseLostError } from '../src/index.js';
import { deferred, type Env, suiteEnv } from './helpers.js';

const fixture = fileURLToPath(new URL('./fixtures/stuck-winner.ts', import.meta.url));
let env: Env;

suiteEnv((e) => {
  env = e;
});

describe('winner crash and slow winners', () => {
  it('a winner SIGKILLed mid-handler is taken over after leaseMs; no message stays unprocessed', async () => {
    const COUNT = 20;
    const LEASE = 3_000;
    const child = spawnTs(fixture, [env.url, 'crash', String(LEASE), String(COUNT)]);
    const exited = once(child, 'exit');
    let out = '';
    child.stdout?.on('data', (d) => (out += d));
    child.stderr?.on('data', (d) => (out += d));
    try {
      await waitUntil(
        'the child to start every handler',
        async () => out.split('started').length - 1 === COUNT,
        30_000,
      );
    } catch (err) {
      child.kill('SIGKILL');
      throw new Error(`${(err as Error).message}; child output: ${out}`);
    }
    const childOwner = `stuck-pod:${child.pid}`;
    const survivor = new Deduplicator({
      redis: env.client(),
      namespace: 'crash',
      leaseMs: LEASE,
      owner: 'survivor',
    });
    await survivor.verify();
    child.kill('SIGKILL');
    const killedAt = Date.now();
    await exited;
    const takeovers: DedupEvents['lease-expired'][] = [];
    survivor.on('lease-expired', (e) => takeovers.push(e));
    const ids = Array.from({ length: COUNT }, (_, i) => `msg-${i}`);
    const runs = new Map<string, number>();
    // Redeliveries right after the crash: the dead pod's lease is still live, so these are duplicates.
    for (const outcome of await Promise.all(ids.map((id) => survivor.process(id, () => 'early')))) {
      expect(outcome).toMatchObject({ status: 'duplicate', state: 'in-progress', owner: childOwner });
    }
    // Keep redelivering (as a broker would) until every message is processed.
    const pending = new Set(ids);
    let firstTakeoverAt = 0;
    survivor.on('claimed', () => {
      firstTakeoverAt ||= Date.now();
    });
    const deadline = Date.now() + 30_000;
    while (pending.size > 0 && Date.now() < deadline) {
      await sleep(200);
      for (const id of [...pending]) {
        const outcome = await survivor.process(id, () => {
          runs.set(id, (runs.get(id) ?? 0) + 1);
          return 'recovered';
        });
        if (outcome.status === 'processed') pending.delete(id);
      }
    }
    expect([...pending]).toEqual([]);
    // Not before the lease could have lapsed (its last heartbeat was at most leaseMs / 3 before the kill).
    expect(firstTakeoverAt - killedAt).toBeGreaterThanOrEqual(LEASE - LEASE / 3 - 50);
    expect([...runs.values()].every((n) => n === 1)).toBe(true);
    expect(takeovers).toHaveLength(COUNT);
    expect(takeovers.every((e) => e.owner === childOwner && e.detectedBy === 'takeover')).toBe(true);
    expect(survivor.stats()).toMatchObject({ takeovers: COUNT, done: COUNT });
    for (const outcome of await survivor.claimMany(ids)) {
      expect(outcome).toMatchObject({ outcome: 'done', owner: 'survivor', result: 'recovered' });
    }
    await survivor.close();
  }, 90_000);

  it('a slow winner that keeps heartbeating is never taken over', async () => {
    const LEASE = 1_000;
    const slow = new Deduplicator({
      redis: env.client(),
      namespace: 'slow',
      leaseMs: LEASE,
      heartbeatIntervalMs: 200,
      owner: 'slow-pod',
    });
    const contender = new Deduplicator({
      redis: env.client(),
      namespace: 'slow',
      leaseMs: LEASE,
      owner: 'other-pod',
    });
    let runs = 0;
    let finished = false;
    const began = deferred();
    const winning = slow.process('long-job', async () => {
      began.resolve();
      runs++;
      await sleep(LEASE * 3.5);
      return 'done slowly';
    });
    await began.promise;
    let attempts = 0;
    while (!finished) {
      const outcome = await contender.process('long-job', () => {
        runs++;
        return 'stolen';
      });
      attempts++;
      if (outcome.status === 'duplicate' && outcome.state === 'done') finished = true;
      else expect(outcome).toMatchObject({ status: 'duplicate', state: 'in-progress', owner: 'slow-pod' });
      await sleep(100);
    }
    expect(await winning).toMatchObject({ status: 'processed', result: 'done slowly' });
    expect(runs).toBe(1);
    expect(attempts).toBeGreaterThan(10);
    expect(contender.stats().takeovers).toBe(0);
    await slow.close();
    await contender.close();
  }, 60_000);

  it('a winner cut off from Redis (paused) is told through its signal before its lease could lapse', async () => {
    const LEASE = 1_200;
    const dedup = new Deduplicator({
      redis: env.client(),
      namespace: 'paused',
      leaseMs: LEASE,
      heartbeatIntervalMs: 200,
      owner: 'cut-off-pod',
    });
    const began = deferred();
    let abortedAfterMs = Number.NaN;
    let pausedAt = 0;
    const processing = dedup.process('m', async ({ signal }) => {
      began.resolve();
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      abortedAfterMs = performance.now() - pausedAt;
      expect(isLeaseLostError(signal.reason)).toBe(true);
      return 'stopped';
    });
    await began.promise;
    const node = env.nodes.nodes[0]!;
    pausedAt = performance.now();
    await node.pause();
    try {
      await waitUntil('the handler signal to abort', async () => !Number.isNaN(abortedAfterMs), 15_000);
    } finally {
      await node.resume();
    }
    // Aborted no later than the lease (plus scheduling slack), never silently running on.
    expect(abortedAfterMs).toBeLessThan(LEASE + 2_000);
    expect(await processing).toMatchObject({ status: 'processed', result: 'stopped' });
    await dedup.close();
  }, 60_000);
});
