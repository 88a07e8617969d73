import { describe, expect, it } from 'vitest';
import manifest from '../package.json' with { type: 'json' };
import * as api from '../src/index.js';

describe('@cxkit/checkpoint package', () => {
  it('exposes its public API through src/index.ts with the seed defaults', () => {
    expect(Object.isFrozen(api.defaults)).toBe(true);
    expect(api.defaults).toMatchObject({ ttlSeconds: 3_600, history: 10, maxBytes: 64 * 1024 });
    const numbers = Object.values(api.defaults).filter((v) => typeof v === 'number');
    expect(numbers.every((v) => v > 0)).toBe(true);
  });

  it('publishes ESM, CJS and types with no side effects', () => {
    expect(manifest.name).toBe('@cxkit/checkpoint');
    expect(manifest.sideEffects).toBe(false);
    expect(manifest.exports['.'].import.types).toBe('./dist/index.d.ts');
    expect(manifest.exports['.'].require.default).toBe('./dist/index.cjs');
  });
});
