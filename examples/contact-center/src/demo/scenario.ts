import type { DemoEnvironment } from './environment.js';
import type { Log, StepResult } from './step-result.js';
import { bulkProvisioning } from './steps/bulk-provisioning.js';
import { checkpointFailover } from './steps/checkpoint-failover.js';
import { lockContention } from './steps/lock-contention.js';
import { redisPartition } from './steps/redis-partition.js';
import { regionCrash } from './steps/region-crash.js';
import { webhookStorm } from './steps/webhook-storm.js';

export interface ScenarioOptions {
  /** Identical deliveries of one webhook in step 1. @default 500 */
  webhookDeliveries?: number;
  /** Agents provisioned in step 6. @default 10_000 */
  agents?: number;
  log?: Log;
}

/**
 * The six failures of seeds 001, 003 and 004, each made to happen against the running regions, with
 * what was expected and what was observed. A step that throws is a failed row, not an aborted run.
 */
export async function runScenario(
  env: DemoEnvironment,
  options: ScenarioOptions = {},
): Promise<StepResult[]> {
  const log = options.log ?? (() => {});
  const results: StepResult[] = [];
  const run = async <T>(
    title: string,
    fn: () => Promise<T>,
    toResult: (v: T) => StepResult,
  ): Promise<T | undefined> => {
    log(`\n== ${title}`);
    try {
      const value = await fn();
      const result = toResult(value);
      results.push(result);
      log(`  -> ${result.outcome.toUpperCase()}: ${result.observed}`);
      return value;
    } catch (err) {
      results.push({
        step: title,
        expected: '(step ran to completion)',
        observed: `error: ${(err as Error).message}`,
        outcome: 'fail',
      });
      log(`  -> FAIL: ${(err as Error).stack ?? err}`);
      return undefined;
    }
  };
  const id = (r: StepResult) => r;
  await run('1. webhook storm', () => webhookStorm(env, options.webhookDeliveries ?? 500, log), id);
  await run('2. concurrent lock', () => lockContention(env, log), id);
  const crash = await run(
    '3. region crash',
    () => regionCrash(env, log),
    (v) => v.result,
  );
  if (crash) await run('4. checkpoint handoff', () => checkpointFailover(env, crash.session, log), id);
  else
    results.push({
      step: '4. checkpoint handoff',
      expected: 'needs step 3',
      observed: 'step 3 failed',
      outcome: 'fail',
    });
  await run('5. redis partition', () => redisPartition(env, log), id);
  await run('6. bulk provisioning', () => bulkProvisioning(env, options.agents ?? 10_000, log), id);
  return results;
}
