import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { quickStart, quickStartBlock, runTs } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'cxkit-quick-start-'));
const file = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return pathToFileURL(join(dir, name));
};

describe('quick start helpers', () => {
  it('quickStartBlock reads the first ts block under the heading, or nothing without one', () => {
    const readme = file(
      'README.md',
      '# x\n```ts\nearlier\n```\n## Quick start\n\n```ts\nconst a = 1;\n```\n```ts\nlater\n```\n',
    );
    expect(quickStartBlock(readme)).toBe('const a = 1;\n');
    expect(quickStartBlock(file('NONE.md', '# x\n```ts\nconst a = 1;\n```\n'))).toBeUndefined();
  });

  it('runTs resolves the exit code and both output streams, with the env it was given', async () => {
    const script = file(
      'script.ts',
      "const n: number = 2;\nconsole.log('out', process.env.WHO);\nconsole.error('err', n);\nprocess.exit(3);\n",
    );
    const { code, out } = await runTs(script, { WHO: 'me' });
    expect(code).toBe(3);
    expect(out).toContain('out me');
    expect(out).toContain('err 2');
  }, 30_000);

  it('quickStart finds the package README and fixture next to the test, and names a server it lacks', () => {
    const qs = quickStart(new URL('../../locks/test/readme.test.ts', import.meta.url).href, {});
    expect(qs.block()).toBe(qs.fixtureText());
    expect(() => qs.redisUrl).toThrow(/no Redis/);
    expect(() => qs.databaseUrl).toThrow(/no PostgreSQL/);
  });
});
