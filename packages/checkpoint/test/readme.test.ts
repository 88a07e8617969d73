import { readFileSync } from 'node:fs';
import { type RedisNodes, spawnTs, startRedisNodes } from '@cxkit/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const fixture = new URL('./fixtures/quickstart.ts', import.meta.url);
let nodes: RedisNodes;

beforeAll(async () => {
  nodes = await startRedisNodes(1, { private: true });
});

afterAll(async () => {
  await nodes?.stop();
});

describe('README quick start', () => {
  it('is the code of test/fixtures/quickstart.ts', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const block = readme.slice(readme.indexOf('## Quick start')).match(/```ts\n([\s\S]*?)```/)?.[1];
    expect(block).toBe(readFileSync(fixture, 'utf8'));
  });

  it('runs against a real Redis and resumes without the transient menu selection', async () => {
    const child = spawnTs(fixture.pathname, [], { env: { REDIS_URL: nodes.urls[0] } });
    let out = '';
    child.stdout?.on('data', (d) => (out += d));
    child.stderr?.on('data', (d) => (out += d));
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(code, out).toBe(0);
    expect(out).toContain('resume at revision 1');
    expect(out).toContain('billing_support_priority');
    expect(out).not.toContain('billing_options');
  });
});
