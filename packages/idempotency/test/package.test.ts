import { describe, expect, it } from 'vitest';
import manifest from '../package.json' with { type: 'json' };
import * as api from '../src/index.js';

describe('@cxkit/idempotency package', () => {
  it('exposes its public API through src/index.ts with the seed defaults', () => {
    expect(Object.isFrozen(api.defaults)).toBe(true);
    expect(api.defaults.table).toBe('idempotency_keys');
    const numbers = Object.entries(api.defaults).filter(([k]) => k !== 'table');
    expect(numbers.every(([, v]) => typeof v === 'number' && v > 0)).toBe(true);
    expect(api.defaults).toMatchObject({
      ttlSeconds: 86_400,
      localCacheMax: 10_000,
      localCacheTtlMs: 60_000,
    });
  });

  it('publishes ESM, CJS and types with no side effects', () => {
    expect(manifest.name).toBe('@cxkit/idempotency');
    expect(manifest.sideEffects).toBe(false);
    expect(manifest.exports['.'].import.types).toBe('./dist/index.d.ts');
    expect(manifest.exports['.'].require.default).toBe('./dist/index.cjs');
  });
});
