import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
/** Repository root (packages/testkit/src -> ../../..). */
export const repoRoot = resolve(here, '../../..');

/** Node arguments that run cxkit's TypeScript sources directly (tsx, source condition, Lua as text). */
export function tsNodeArgs(): string[] {
  const require = createRequire(import.meta.url);
  const tsx = join(dirname(require.resolve('tsx/package.json')), 'dist/loader.mjs');
  const hooks = join(repoRoot, 'tools/register-source.mjs');
  return [
    '--conditions=@cxkit/source',
    '--import',
    pathToFileURL(tsx).href,
    '--import',
    pathToFileURL(hooks).href,
  ];
}

/**
 * Runs a TypeScript file in a separate Node process (a "pod" or "region" that a test can SIGKILL).
 * stdout/stderr are piped so the test can read what the child reports.
 */
export function spawnTs(file: string, args: string[] = [], options: SpawnOptions = {}): ChildProcess {
  return spawn(process.execPath, [...tsNodeArgs(), file, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...options,
    env: { ...process.env, ...options.env },
  });
}
