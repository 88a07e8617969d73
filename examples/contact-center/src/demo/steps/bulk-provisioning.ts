import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ReconciliationReport } from '../../provisioning/reconcile.js';
import { call } from '../api-client.js';
import { mapLimit, percentile } from '../concurrency.js';
import type { DemoEnvironment } from '../environment.js';
import { cxoneAgentState } from '../payloads.js';
import { ServiceProcess } from '../region-process.js';
import { type Log, type StepResult, verdict } from '../step-result.js';

/**
 * Step 6 (seed 004, the cascading-failure lesson): a bulk provisioning job of `agents` agents against the
 * slow client cloud. The job is SIGKILLed halfway and run again, then run a third time after it finished.
 * Meanwhile agent-state webhooks keep flowing and their latency is measured: the consumers hand slow work
 * to the worker pool, so a delivery waits far less than the job takes (a consumer blocked on the slow
 * downstream would wait for the backlog).
 */
export async function bulkProvisioning(env: DemoEnvironment, agents: number, log: Log): Promise<StepResult> {
  const batchId = `batch-${randomUUID().slice(0, 8)}`;
  const jobEnv = { ...env.serviceEnv(), BATCH_ID: batchId, AGENTS: String(agents) };
  const createdBefore = env.cloud.stats().agentsCreated;
  const doneCount = async () =>
    Number(
      (
        await env.pool.query<{ n: string }>(
          "SELECT count(*) AS n FROM agent_provisioning WHERE batch_id = $1 AND status = 'done'",
          [batchId],
        )
      ).rows[0]?.n ?? 0,
    );

  // Webhook consumers under load while the job runs.
  const latencies: number[] = [];
  const failures: number[] = [];
  let probing = true;
  const prober = (async () => {
    let agent = 0;
    while (probing) {
      await mapLimit([0, 1, 2, 3], 4, async (i) => {
        const region = i % 2 === 0 ? env.regionA : env.regionB;
        const res = await call(region.url, 'POST', '/webhooks/cxone', {
          token: env.token,
          body: cxoneAgentState(100_000 + (agent++ % 50), i % 2 ? 'Available' : 'Unavailable'),
        });
        if (res.status === 200) latencies.push(res.ms);
        else if (res.status !== 429) failures.push(res.status);
      });
      await sleep(50);
    }
  })();

  const started = performance.now();
  const first = await ServiceProcess.start('provisioning (run 1)', 'provisioning/main.ts', jobEnv);
  first.onLine = (line) => line.startsWith('provisioning ') && log(`  run 1: ${line}`);
  const half = Math.floor(agents / 2);
  while ((await doneCount()) < half && first.running && performance.now() - started < 300_000)
    await sleep(100);
  const atKill = await doneCount();
  await first.kill();
  log(`  run 1 SIGKILLed at ${atKill}/${agents} agents`);

  const second = await ServiceProcess.start('provisioning (run 2)', 'provisioning/main.ts', jobEnv);
  second.onLine = (line) => line.startsWith('provisioning ') && log(`  run 2: ${line}`);
  await second.exited();
  const report2 = parseReport(second.output);
  const createdAfterRun2 = env.cloud.stats().agentsCreated - createdBefore;
  for (const line of second.output.filter((l) => l.startsWith('re-enqueued'))) log(`  run 2: ${line}`);
  log(`  run 2: ${report2 ? JSON.stringify(report2) : second.tail(5)}`);
  const jobMs = Math.round(performance.now() - started);
  probing = false;
  await prober;

  const third = await ServiceProcess.start('provisioning (run 3)', 'provisioning/main.ts', jobEnv);
  await third.exited();
  const report3 = parseReport(third.output);
  const createdTotal = env.cloud.stats().agentsCreated - createdBefore;
  const p95 = Math.round(percentile(latencies, 95));
  log(
    `  run 3: ${createdTotal - createdAfterRun2} agents created; webhook p95 ${p95} ms over ${latencies.length} deliveries during the job`,
  );

  const pass =
    atKill > 0 &&
    atKill < agents &&
    report2 !== undefined &&
    report2.pending === 0 &&
    report2.missingInCloud === 0 &&
    report2.duplicateAgents === 0 &&
    createdAfterRun2 === agents &&
    report3 !== undefined &&
    report3.pending === 0 &&
    createdTotal === agents &&
    latencies.length > 0 &&
    // Not blocked: a webhook waits far less than the job takes (a blocked consumer would wait for it).
    p95 < Math.max(1_000, jobMs / 4) &&
    failures.length === 0;
  return {
    step: '6. bulk provisioning',
    expected: `${agents} agents, killed halfway and rerun: each created once; a third run creates none; webhooks answered meanwhile (p95 < max(1 s, job/4))`,
    observed: `killed at ${atKill}, created ${createdAfterRun2} (+${createdTotal - createdAfterRun2} on run 3), dup ${report2?.duplicateAgents ?? '?'}, missing ${report2?.missingInCloud ?? '?'}, webhook p95 ${p95} ms during a ${(jobMs / 1000).toFixed(1)} s job`,
    outcome: verdict(pass),
  };
}

function parseReport(lines: string[]): ReconciliationReport | undefined {
  const line = lines.find((l) => l.startsWith('RECONCILIATION '));
  return line ? (JSON.parse(line.slice('RECONCILIATION '.length)) as ReconciliationReport) : undefined;
}
