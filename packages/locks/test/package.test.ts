import { describe, expect, it } from 'vitest';
import manifest from '../package.json' with { type: 'json' };
import * as api from '../src/index.js';

describe('@cxkit/locks package', () => {
  it('exposes its public API through src/index.ts with the seed defaults', () => {
    expect(Object.isFrozen(api.defaults)).toBe(true);
    expect(api.defaults).toMatchObject({
      defaultTtlMs: 15_000,
      heartbeatIntervalMs: 5_000,
      staleAfterMs: 15_000,
    });
    expect(Object.isFrozen(api.defaults.retry)).toBe(true);
  });

  it('publishes ESM, CJS and types with no side effects', () => {
    expect(manifest.name).toBe('@cxkit/locks');
    expect(manifest.sideEffects).toBe(false);
    expect(manifest.exports['.'].import.types).toBe('./dist/index.d.ts');
    expect(manifest.exports['.'].require.default).toBe('./dist/index.cjs');
  });
});
