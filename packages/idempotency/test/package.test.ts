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
    expect(manifest.exports['./fastify'].import.default).toBe('./dist/fastify.js');
    expect(manifest.exports['./express'].require.types).toBe('./dist/express.d.cts');
  });

  it('adapter entry points export their factories', async () => {
    expect(typeof (await import('../src/fastify.js')).idempotencyPlugin).toBe('function');
    expect(typeof (await import('../src/express.js')).idempotency).toBe('function');
    expect(typeof api.IdempotencyStore).toBe('function');
    expect(api.isIdempotencyKeyReusedError(new api.IdempotencyKeyReusedError('k'))).toBe(true);
  });
});
