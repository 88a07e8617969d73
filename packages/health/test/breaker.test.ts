import { setTimeout as sleep } from 'node:timers/promises';
import { RedisNode, waitUntil } from '@cxkit/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BreakerOpenError,
  breakerCheck,
  dependencyBreaker,
  HealthMonitor,
  isBreakerOpenError,
  isRetryBudgetExhaustedError,
  RetryBudget,
} from '../src/index.js';

describe('dependencyBreaker on a real Redis node', () => {
  let node: RedisNode;
  let redis: Redis;

  beforeAll(async () => {
    node = await RedisNode.start();
    // Fail fast while the node is down instead of queueing commands.
    redis = new Redis(node.url, {
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => 50,
    });
    redis.on('error', () => {});
    await waitUntil('client ready', async () => redis.status === 'ready');
  });

  afterAll(async () => {
    redis.disconnect();
    await node.destroy();
  });

  it('3 consecutive failures open it (unhealthy), a half-open probe after the timeout closes it', async () => {
    const breaker = dependencyBreaker({ name: 'redis', halfOpenAfterMs: 600, retries: 0 });
    const states: string[] = [];
    breaker.on('state', (e) => states.push(e.to));
    const monitor = new HealthMonitor({
      checks: { redis_breaker: breakerCheck(breaker, { probe: () => redis.ping() }) },
      intervalMs: 60_000,
    });
    expect((await monitor.check()).components.redis_breaker).toMatchObject({
      status: 'healthy',
      state: 'closed',
    });

    await node.kill();
    let calls = 0;
    const write = () =>
      breaker.execute(async () => {
        calls++;
        return redis.set('k', 'v');
      });
    for (let i = 0; i < 3; i++) await expect(write()).rejects.toThrow();
    expect(calls).toBe(3);
    expect(breaker.state).toBe('open');
    // Open: refused without touching Redis.
    const refused = await write().catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(BreakerOpenError);
    expect(isBreakerOpenError(refused)).toBe(true);
    expect(calls).toBe(3);

    const open = await monitor.check();
    expect(open.status).toBe('unhealthy');
    expect(open.components.redis_breaker).toMatchObject({
      status: 'unhealthy',
      state: 'open',
      breaker: 'redis',
    });
    expect(String(open.components.redis_breaker!.last_failure)).not.toBe('');

    await node.restart();
    await waitUntil('client reconnected', async () => redis.status === 'ready', 15_000);
    await sleep(650);
    const probed = await monitor.check();
    expect(breaker.state).toBe('closed');
    expect(probed.components.redis_breaker).toMatchObject({
      status: 'unhealthy', // held by hysteresis: 1 of 3 passes
      observed_status: 'healthy',
      probe: 'succeeded',
      state: 'closed',
    });
    await monitor.check();
    expect((await monitor.check()).components.redis_breaker!.status).toBe('healthy');
    expect(states).toEqual(['open', 'half-open', 'closed']);
    await expect(write()).resolves.toBe('OK');
    await monitor.close();
  });

  it('a half-open breaker under test reports degraded', async () => {
    const breaker = dependencyBreaker({ halfOpenAfterMs: 100, retries: 0, consecutiveFailures: 1 });
    await expect(breaker.execute(() => Promise.reject(new Error('down')))).rejects.toThrow('down');
    await sleep(150);
    const test = breaker.execute(async () => {
      await sleep(200);
      return redis.ping();
    });
    const check = breakerCheck(breaker);
    expect(await check.check(new AbortController().signal)).toMatchObject({
      status: 'degraded',
      state: 'half-open',
    });
    await expect(test).resolves.toBe('PONG');
    expect(await check.check(new AbortController().signal)).toMatchObject({
      status: 'healthy',
      state: 'closed',
    });
  });
});

describe('dependencyBreaker retries', () => {
  it('retries with jitter and succeeds', async () => {
    const breaker = dependencyBreaker({ retries: 2, retryMinTimeoutMs: 5, retryMaxTimeoutMs: 20 });
    let attempts = 0;
    const value = await breaker.execute(async () => {
      if (++attempts < 3) throw new Error('flaky');
      return 42;
    });
    expect(value).toBe(42);
    expect(attempts).toBe(3);
    expect(breaker.state).toBe('closed');
  });

  it('never retries once the breaker is open', async () => {
    const breaker = dependencyBreaker({ consecutiveFailures: 2, retries: 5, retryMinTimeoutMs: 1 });
    let attempts = 0;
    const err = await breaker
      .execute(async () => {
        attempts++;
        throw new Error('down');
      })
      .catch((e: unknown) => e);
    expect(attempts).toBe(2);
    expect((err as Error).message).toBe('down');
    expect(breaker.state).toBe('open');
  });

  it('a shared budget stops retries across breakers', async () => {
    const budget = new RetryBudget({ maxTokens: 1, ratio: 0, minPerSecond: 0 });
    const a = dependencyBreaker({
      name: 'a',
      budget,
      retries: 3,
      retryMinTimeoutMs: 1,
      consecutiveFailures: 10,
    });
    const b = dependencyBreaker({
      name: 'b',
      budget,
      retries: 3,
      retryMinTimeoutMs: 1,
      consecutiveFailures: 10,
    });
    let attempts = 0;
    const failing = async () => {
      attempts++;
      throw new Error('down');
    };
    const first = await a.execute(failing).catch((e: unknown) => e);
    expect(attempts).toBe(2); // one retry, then the budget is empty
    expect(isRetryBudgetExhaustedError(first)).toBe(true);
    expect((first as Error).cause).toMatchObject({ message: 'down' });
    attempts = 0;
    const second = await b.execute(failing).catch((e: unknown) => e);
    expect(attempts).toBe(1);
    expect(isRetryBudgetExhaustedError(second)).toBe(true);
    expect(budget.available).toBeLessThan(1);
  });

  it('rejects bad options naming the field', () => {
    expect(() => dependencyBreaker({ consecutiveFailures: 0 })).toThrow(
      /dependencyBreaker\.consecutiveFailures/,
    );
  });
});
