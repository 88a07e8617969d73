import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DemoEnvironment } from '../src/demo/environment.js';
import { runScenario } from '../src/demo/scenario.js';
import type { StepResult } from '../src/demo/step-result.js';

/**
 * The demo's scenario with smaller counts, against real Redis and PostgreSQL servers, two region processes
 * and the worker pool: every row of the summary must pass (step 5 needs Redis nodes this run started).
 */
describe('split-brain scenario (npm run demo, smaller counts)', () => {
  let env: DemoEnvironment;
  let results: StepResult[];
  const lines: string[] = [];

  beforeAll(async () => {
    env = await DemoEnvironment.start(undefined, (l) => lines.push(l));
    results = await runScenario(env, { webhookDeliveries: 120, agents: 300, log: (l) => lines.push(l) });
  }, 240_000);

  afterAll(async () => {
    await env?.stop();
  }, 60_000);

  const row = (prefix: string) => {
    const found = results.find((r) => r.step.startsWith(prefix));
    if (!found) throw new Error(`no summary row ${prefix}\n${lines.join('\n')}`);
    return found;
  };
  const passes = (prefix: string) => {
    const r = row(prefix);
    expect(r.outcome, `${r.step}: ${r.observed}\n${lines.join('\n')}`).toBe('pass');
  };

  it('has one row per step', () => {
    expect(results.map((r) => r.step.slice(0, 2))).toEqual(['1.', '2.', '3.', '4.', '5.', '6.']);
  });
  it('1: identical webhook deliveries over both regions make exactly one CRM row', () => passes('1.'));
  it('2: both regions acquire one session lock: one 200, one 409', () => passes('2.'));
  it('3: a SIGKILLed holder is overridden after the stale threshold, audited, its late write fenced off', () =>
    passes('3.'));
  it('4: a v1 checkpoint from the dead region is restored in the other, migrated to v2', () => passes('4.'));
  it('5: a paused Redis node turns /health 503, recovery needs consecutive good rounds', () => passes('5.'));
  it('6: bulk provisioning survives a kill, creates every agent once, does not block webhooks', () =>
    passes('6.'));
});
