import { readFileSync } from 'node:fs';
import { quickStartBlock, type RedisNodes, runTs, startRedisNodes } from '@cxkit/testkit';
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
    expect(quickStartBlock(new URL('../README.md', import.meta.url))).toBe(readFileSync(fixture, 'utf8'));
  });

  it('runs against a real Redis and resumes without the transient menu selection', async () => {
    const { code, out } = await runTs(fixture, { REDIS_URL: nodes.urls[0] });
    expect(code, out).toBe(0);
    expect(out).toContain('resume at revision 1');
    expect(out).toContain('billing_support_priority');
    expect(out).not.toContain('billing_options');
  });
});
