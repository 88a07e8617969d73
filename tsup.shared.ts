import type { Options } from 'tsup';

/** One build shape for every published package: ESM + CJS + types, Lua bundled as text. */
export function packageBuild(entry: string[]): Options {
  return {
    entry,
    format: ['esm', 'cjs'],
    // Types that come from @cxkit/internal are inlined too, so no .d.ts names it: mapping the name to
    // the real path (not the node_modules link) makes the declaration bundler treat it as own code.
    dts: { compilerOptions: { paths: { '@cxkit/internal': ['../internal/src/index.ts'] } } },
    sourcemap: true,
    clean: true,
    target: 'node20',
    splitting: false,
    treeshake: true,
    loader: { '.lua': 'text' },
    // The private @cxkit/internal is inlined into each package: never a runtime dependency.
    noExternal: [/^@cxkit\/internal/],
    esbuildOptions(options) {
      // `src` ships in each package, so maps point at it; @cxkit/internal's inlined sources stay out.
      options.sourcesContent = false;
    },
  };
}
