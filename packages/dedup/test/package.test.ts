import type { Cluster, Redis } from 'ioredis';
import { describe, expect, expectTypeOf, it } from 'vitest';
import manifest from '../package.json' with { type: 'json' };
import * as api from '../src/index.js';

describe('@cxkit/dedup package', () => {
  it('exposes its public API through src/index.ts with the seed defaults', () => {
    expect(Object.isFrozen(api.defaults)).toBe(true);
    const { namespace, ...numbers } = api.defaults;
    expect(namespace).toBe('cxkit:dedup');
    expect(Object.values(numbers).every((v) => typeof v === 'number' && v > 0)).toBe(true);
    expect(api.defaults).toMatchObject({ windowMs: 60_000, leaseMs: 30_000, maxIdBytes: 512 });
    expect(typeof api.Deduplicator).toBe('function');
  });

  it('accepts an ioredis client or Cluster through the narrow structural client type', () => {
    expectTypeOf<Redis>().toExtend<api.DedupRedis>();
    expectTypeOf<Cluster>().toExtend<api.DedupRedis>();
  });

  it('publishes ESM, CJS and types with no side effects', () => {
    expect(manifest.name).toBe('@cxkit/dedup');
    expect(manifest.sideEffects).toBe(false);
    expect(manifest.exports['.'].import.types).toBe('./dist/index.d.ts');
    expect(manifest.exports['.'].require.default).toBe('./dist/index.cjs');
  });
});
