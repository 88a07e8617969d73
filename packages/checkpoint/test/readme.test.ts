import { quickStart } from '@cxkit/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const qs = quickStart(import.meta.url, { redis: true });
beforeAll(() => qs.start(), 30_000);
afterAll(() => qs.stop());

describe('README quick start', () => {
  it('is the code of test/fixtures/quickstart.ts', () => {
    expect(qs.block()).toBe(qs.fixtureText());
  });

  it('runs against a real Redis and resumes without the transient menu selection', async () => {
    const { code, out } = await qs.run();
    expect(code, out).toBe(0);
    expect(out).toContain('resume at revision 1');
    expect(out).toContain('billing_support_priority');
    expect(out).not.toContain('billing_options');
  });
});
