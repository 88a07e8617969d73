// Loads every published package from its built output, as CommonJS and as ESM.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let failed = 0;
for (const dir of readdirSync('packages')) {
  const manifest = JSON.parse(readFileSync(`packages/${dir}/package.json`, 'utf8'));
  if (manifest.private) continue;
  for (const subpath of Object.keys(manifest.exports).filter((k) => k !== './package.json')) {
    const specifier = manifest.name + subpath.slice(1);
    try {
      const cjs = require(specifier);
      const esm = await import(specifier);
      const names = Object.keys(esm).filter((k) => k !== 'default');
      if (names.length === 0 || names.some((k) => !(k in cjs))) throw new Error('ESM and CJS exports differ');
      console.log(`dist ok: ${specifier} (${names.length} exports, require + import)`);
    } catch (err) {
      failed++;
      console.error(`dist FAILED: ${specifier}: ${err.message}`);
    }
  }
}
process.exit(failed ? 1 : 0);
