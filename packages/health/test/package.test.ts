import { describe, expect, it } from 'vitest';
import manifest from '../package.json' with { type: 'json' };
import * as api from '../src/index.js';

describe('@cxkit/health package', () => {
  it('exposes its public API through src/index.ts with the seed defaults', () => {
    expect(Object.isFrozen(api.defaults)).toBe(true);
    expect(Object.values(api.defaults).every((v) => typeof v === 'number' && v > 0)).toBe(true);
  });

  it('publishes ESM, CJS and types with no side effects', () => {
    expect(manifest.name).toBe('@cxkit/health');
    expect(manifest.sideEffects).toBe(false);
    expect(manifest.exports['.'].import.types).toBe('./dist/index.d.ts');
    expect(manifest.exports['.'].require.default).toBe('./dist/index.cjs');
  });

  it('publishes the fastify and express adapters as their own entry points, shaped like "."', () => {
    for (const name of ['fastify', 'express'] as const) {
      const entry = manifest.exports[`./${name}`];
      expect(Object.keys(entry)).toEqual(Object.keys(manifest.exports['.']));
      expect(entry.import).toEqual({ types: `./dist/${name}.d.ts`, default: `./dist/${name}.js` });
      expect(entry.require).toEqual({ types: `./dist/${name}.d.cts`, default: `./dist/${name}.cjs` });
      expect(manifest.peerDependenciesMeta[name].optional).toBe(true);
    }
    // The root entry never loads an HTTP framework.
    expect(Object.keys(api).some((k) => /router|plugin/i.test(k))).toBe(false);
  });
});
