import { quickStart } from '@cxkit/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const qs = quickStart(import.meta.url, { redis: true });
beforeAll(() => qs.start(), 30_000);
afterAll(() => qs.stop());

/** Runs the quick start as pod `hostname`; returns its exit code, output and the outcome lines it printed. */
async function run(hostname: string) {
  const { code, out } = await qs.run({ HOSTNAME: hostname });
  const outcomes = out.split('\n').filter((line) => /^(processed here|duplicate):/.test(line));
  return { code, out, outcomes: outcomes.sort() };
}

const result = "{ agent: 'agent-7', callId: 'call-5521', type: 'ANSWERED' }";
const processed = `processed here: ${result}`;
const duplicate = `duplicate: handled by pod-a (done) ${result}`;

describe('README quick start', () => {
  it('is the code of test/fixtures/quickstart.ts', () => {
    expect(qs.block()).toBe(qs.fixtureText());
  });

  it('runs against a real Redis: one delivery runs the handler, every other one gets its result', async () => {
    // pod-a gets the event twice at once: one delivery wins, the other waits and receives the winner's result.
    const first = await run('pod-a');
    expect(first.code, first.out).toBe(0);
    expect(first.outcomes, first.out).toEqual([duplicate, processed]);
    // pod-b gets the same event within the window: both deliveries are answered from pod-a's done marker.
    const second = await run('pod-b');
    expect(second.code, second.out).toBe(0);
    expect(second.outcomes, second.out).toEqual([duplicate, duplicate]);
  }, 30_000);
});
