import { readFileSync } from 'node:fs';
import { spawnTs } from './spawn-ts.js';

/** The first ```ts block under `## Quick start` in the README at `readme` (undefined if there is none). */
export function quickStartBlock(readme: URL): string | undefined {
  const text = readFileSync(readme, 'utf8');
  const at = text.indexOf('## Quick start');
  if (at < 0) return undefined;
  return /```ts\n([\s\S]*?)```/.exec(text.slice(at))?.[1];
}

/** Runs a TypeScript file (as `spawnTs`) until it exits: its exit code and everything it printed. */
export async function runTs(
  file: URL | string,
  env: Record<string, string | undefined> = {},
): Promise<{ code: number | null; out: string }> {
  const child = spawnTs(typeof file === 'string' ? file : file.pathname, [], { env });
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, out };
}
