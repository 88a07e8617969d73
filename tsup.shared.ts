import type { Options } from 'tsup';

/** One build shape for every published package: ESM + CJS + types, Lua bundled as text. */
export function packageBuild(entry: string[]): Options {
  return {
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    splitting: false,
    treeshake: true,
    loader: { '.lua': 'text' },
  };
}
