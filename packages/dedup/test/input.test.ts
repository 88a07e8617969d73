import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  type DedupEvents,
  Deduplicator,
  InvalidIdError,
  isBatchTooLargeError,
  isConfigError,
  isDedupMisconfiguredError,
  isInvalidIdError,
  isResultTooLargeError,
} from '../src/index.js';
import { type Env, suiteEnv } from './helpers.js';

let env: Env;
let redis: Redis;

suiteEnv((e) => {
  env = e;
  redis = e.client();
});

const keysIn = (namespace: string) => redis.keys(`${namespace}:*`);

describe('bad input writes nothing', () => {
  it('rejects empty, non-string and over-512-byte ids with InvalidIdError; 512 bytes is fine', async () => {
    const dedup = new Deduplicator({ redis, namespace: 'in1' });
    let ran = 0;
    for (const [id, reason] of [
      ['', 'empty'],
      ['€'.repeat(171), 'too-long'],
      ['x'.repeat(513), 'too-long'],
      [42, 'not-a-string'],
    ] as const) {
      const err = await dedup.claim(id as string).catch((e: unknown) => e);
      expect(isInvalidIdError(err)).toBe(true);
      expect(err).toMatchObject({ code: 'DEDUP_INVALID_ID', status: 400, reason });
      await expect(dedup.process(id as string, () => ran++)).rejects.toBeInstanceOf(InvalidIdError);
    }
    expect((await dedup.claim('€'.repeat(170) + 'xx')).outcome).toBe('claimed');
    expect(ran).toBe(0);
    expect(await keysIn('in1')).toEqual([`in1:${'€'.repeat(170)}xx`]);
    await dedup.close();
  });

  it('claimMany validates the whole batch before writing any of it', async () => {
    const dedup = new Deduplicator({ redis, namespace: 'in2', maxBatchSize: 100 });
    const err = await dedup.claimMany(['a', 'b', '', 'd']).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'DEDUP_INVALID_ID', index: 2, reason: 'empty' });
    const tooMany = await dedup
      .claimMany(Array.from({ length: 101 }, (_, i) => `id-${i}`))
      .catch((e: unknown) => e);
    expect(isBatchTooLargeError(tooMany)).toBe(true);
    expect(tooMany).toMatchObject({ code: 'DEDUP_BATCH_TOO_LARGE', status: 413, size: 101, limit: 100 });
    expect(await keysIn('in2')).toEqual([]);
    expect(await dedup.claimMany([])).toEqual([]);
    await dedup.close();
  });

  it('a result over maxResultBytes fails with ResultTooLargeError and leaves no claim behind', async () => {
    const dedup = new Deduplicator({ redis, namespace: 'in3', maxResultBytes: 64 });
    const released: DedupEvents['released'][] = [];
    dedup.on('released', (e) => released.push(e));
    const err = await dedup.process('big', () => ({ transcript: 'x'.repeat(100) })).catch((e: unknown) => e);
    expect(isResultTooLargeError(err)).toBe(true);
    expect(err).toMatchObject({ code: 'DEDUP_RESULT_TOO_LARGE', status: 413, limit: 64 });
    expect((err as { bytes: number }).bytes).toBeGreaterThan(100);
    const unserialisable = await dedup.process('bigint', () => 10n).catch((e: unknown) => e);
    expect(unserialisable).toMatchObject({ code: 'DEDUP_RESULT_TOO_LARGE' });
    expect((unserialisable as Error).cause).toBeInstanceOf(TypeError);
    // What JSON would store changed (the losers would get {} and null) is refused too, naming the part.
    for (const [id, result, where] of [
      ['map', { agents: new Map([['a', 1]]) }, 'result.agents: Map instance'],
      ['nan', { score: Number.NaN }, 'result.score: NaN has no JSON form'],
      ['fn', [1, () => 2], 'result.1: function'],
    ] as const) {
      const err = await dedup.process(id, () => result).catch((e: unknown) => e);
      expect(err, id).toMatchObject({ code: 'DEDUP_RESULT_TOO_LARGE' });
      expect(String((err as Error).cause), id).toContain(where);
    }
    expect(released.map((e) => e.reason)).toEqual(Array(5).fill('result-too-large'));
    expect(await keysIn('in3')).toEqual([]);
    // The redelivery can process it (and return something that fits).
    expect(await dedup.process('big', () => ({ ok: true }))).toMatchObject({ status: 'processed' });
    await dedup.close();
  });

  it('rejects bad options with a ConfigError (a TypeError) naming the field', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{}, 'redis'],
      [{ redis: {} }, 'redis'],
      [{ redis, leaseMs: -1 }, 'leaseMs'],
      [{ redis, leaseMs: 3e9 }, 'leaseMs'],
      [{ redis, windowMs: 1.5 }, 'windowMs'],
      [{ redis, namespace: '' }, 'namespace'],
      [{ redis, leaseMs: 1000, heartbeatIntervalMs: 1000 }, 'heartbeatIntervalMs'],
      [{ redis, maxResultBytes: 0 }, 'maxResultBytes'],
      [{ redis, leaseMS: 1000 }, 'leaseMS'],
    ];
    for (const [options, field] of cases) {
      let err: unknown;
      try {
        new Deduplicator(options as never);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(TypeError);
      expect(isConfigError(err)).toBe(true);
      expect(err).toMatchObject({ code: 'DEDUP_CONFIG', field });
      expect((err as Error).message).toContain(field);
    }
  });

  it('rejects a non-positive waitForResult before claiming', async () => {
    const dedup = new Deduplicator({ redis, namespace: 'in4' });
    for (const waitForResult of [0, -5, Number.NaN, 2 ** 31]) {
      await expect(dedup.process('m', () => 1, { waitForResult })).rejects.toBeInstanceOf(ConfigError);
    }
    expect(await keysIn('in4')).toEqual([]);
    await dedup.close();
  });
});

describe('startup self-check', () => {
  /** A client wrapper that silently drops NX and PX from SET, as a misconfigured proxy or mock would. */
  function droppingNxPx(real: Redis): Redis {
    return new Proxy(real, {
      get(target, prop, receiver) {
        if (prop === 'set') {
          return (key: string, value: string, ..._flags: unknown[]) => target.set(key, value);
        }
        return Reflect.get(target, prop, receiver);
      },
    });
  }

  it('fails loudly with DedupMisconfiguredError when the client drops NX/PX; nothing is processed', async () => {
    const dedup = new Deduplicator({ redis: droppingNxPx(env.client()), namespace: 'bad1' });
    const err = await dedup.verify().catch((e: unknown) => e);
    expect(isDedupMisconfiguredError(err)).toBe(true);
    expect(err).toMatchObject({ code: 'DEDUP_MISCONFIGURED', check: 'set-nx' });
    let ran = 0;
    await expect(dedup.process('m', () => ran++)).rejects.toMatchObject({ code: 'DEDUP_MISCONFIGURED' });
    await expect(dedup.claimMany(['a', 'b'])).rejects.toMatchObject({ code: 'DEDUP_MISCONFIGURED' });
    expect(ran).toBe(0);
    expect(await keysIn('bad1')).toEqual([]);
    await dedup.close();
  });

  it('fails when the claim script does not answer like Redis (e.g. a mock that returns OK)', async () => {
    const real = env.client();
    const faking = new Proxy(real, {
      get(target, prop, receiver) {
        if (prop === 'cxkit_dedup_v2_claim') return async () => 'OK';
        return Reflect.get(target, prop, receiver);
      },
    });
    const dedup = new Deduplicator({ redis: faking, namespace: 'bad2' });
    await expect(dedup.verify()).rejects.toMatchObject({
      code: 'DEDUP_MISCONFIGURED',
      check: 'claim-script',
    });
    await dedup.close();
  });

  it('passes on a real client and cleans up its probes', async () => {
    const dedup = new Deduplicator({ redis, namespace: 'good' });
    await dedup.verify();
    await dedup.verify();
    expect(await keysIn('good')).toEqual([]);
    await dedup.close();
  });
});
