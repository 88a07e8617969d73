import { quickStart } from '@cxkit/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const qs = quickStart(import.meta.url, { redis: true });
beforeAll(() => qs.start(), 30_000);
afterAll(() => qs.stop());
const run = () => qs.run();

describe('README quick start', () => {
  it('is the code of test/fixtures/quickstart.ts', () => {
    expect(qs.block()).toBe(qs.fixtureText());
  });

  it('runs against a real Redis: a section under a fence, then a busy lock named by its holder', async () => {
    const first = await run();
    expect(first.code, first.out).toBe(0);
    expect(first.out).toMatch(/CRM update under fence \d+/);
    // Another owner holds the session for longer than the 2 s wait: the script reports it and exits.
    const other = new Redis(qs.redisUrl);
    try {
      const [seconds] = await other.time();
      const now = Number(seconds) * 1000;
      const record = `${now + 60_000} 5 other-owner 5 ${now} ${now} 60000 9 0 0 eu-west-1`;
      await other.set('cxkit:locks:{session:8f4a2c91}', record, 'PX', 60_000);
      const busy = await run();
      expect(busy.code, busy.out).toBe(0);
      expect(busy.out).toContain('still held after 2 s:');
      expect(busy.out).toContain('eu-west-1');
    } finally {
      await other.del('cxkit:locks:{session:8f4a2c91}');
      other.disconnect();
    }
  }, 30_000);
});
