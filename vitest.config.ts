import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { defineConfig, type Plugin } from 'vitest/config';

/** Lua scripts are imported as text, the same way tsup bundles them. */
const luaAsText: Plugin = {
  name: 'cxkit-lua-as-text',
  enforce: 'pre',
  load(id) {
    if (!id.endsWith('.lua')) return null;
    return `export default ${JSON.stringify(readFileSync(id, 'utf8'))};`;
  },
};

// Workspace packages resolve to their TypeScript sources; everything else keeps Vite's defaults.
const conditions = ['@cxkit/source', 'module', 'node', 'development|production'];

const projectDirs = ['packages', 'examples'].flatMap((group) =>
  existsSync(group)
    ? readdirSync(group, { withFileTypes: true })
        .filter((d) => d.isDirectory() && existsSync(`${group}/${d.name}/test`))
        .map((d) => `${group}/${d.name}`)
    : [],
);

export default defineConfig({
  plugins: [luaAsText],
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
    maxWorkers: 3,
    reporters: ['default'],
    projects: projectDirs.map((root) => ({
      extends: true,
      test: {
        name: root.split('/')[1],
        root,
        include: ['test/**/*.test.ts'],
      },
    })),
  },
});
