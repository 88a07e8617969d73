import { quickStart } from '@cxkit/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const qs = quickStart(import.meta.url, { redis: true, postgres: true });
beforeAll(() => qs.start(), 30_000);
afterAll(() => qs.stop());
const run = () => qs.run();

const outcome = (version: number, result: string) =>
  new RegExp(`version: ${version},\\s+outcome: '${result}',\\s+storedVersion: 17`);
const read = /found: true,\s+value: \{ status: 'busy' \},\s+version: 17,\s+stale: false/;

describe('README quick start', () => {
  it('is the code of test/fixtures/quickstart.ts', () => {
    expect(qs.block()).toBe(qs.fixtureText());
  });

  it('runs against a real Redis and Postgres: rebuild, snapshot start, rebuild from the outbox', async () => {
    // Empty Redis: degraded, rebuilt from the (empty) outbox, then the write lands and the late one is ignored.
    const first = await run();
    expect(first.code, first.out).toBe(0);
    expect(first.out).toContain('state-cache degraded -> rebuilding');
    expect(first.out).toContain('state-cache rebuilding -> ready (rebuilt)');
    expect(first.out).toMatch(outcome(17, 'applied'));
    expect(first.out).toMatch(outcome(16, 'ignored'));
    expect(first.out).toMatch(read);

    // Redis still holds the generation: ready straight from the snapshot, and the replayed write is a no-op.
    const second = await run();
    expect(second.code, second.out).toBe(0);
    expect(second.out).toContain('state-cache warming -> ready (start)');
    expect(second.out).not.toContain('rebuilding');
    expect(second.out).toMatch(outcome(17, 'ignored'));
    expect(second.out).toMatch(read);

    // Redis lost everything: the rebuild replays the outbox, so version 17 is there before apply() runs.
    const redis = new Redis(qs.redisUrl);
    try {
      await redis.flushall();
    } finally {
      redis.disconnect();
    }
    const third = await run();
    expect(third.code, third.out).toBe(0);
    expect(third.out).toContain('state-cache rebuilding -> ready (rebuilt)');
    expect(third.out).toMatch(outcome(17, 'ignored'));
    expect(third.out).toMatch(read);
  }, 30_000);
});
