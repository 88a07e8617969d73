import { parseArgs } from 'node:util';
import { DemoEnvironment } from './demo/environment.js';
import { runScenario } from './demo/scenario.js';
import { summaryTable } from './demo/summary.js';

/**
 * `npm run demo`: starts Redis, PostgreSQL (or embedded PGlite), the slow client cloud, two region
 * processes and the worker pool, runs the split-brain scenario and prints the summary; exits 1 if any step
 * failed. `npm run demo -- --serve` starts the same services and keeps them running for curl.
 */
const { values } = parseArgs({
  options: {
    serve: { type: 'boolean', default: false },
    agents: { type: 'string', default: '10000' },
    deliveries: { type: 'string', default: '500' },
  },
});
const log = (line: string) => console.log(line);

const env = await DemoEnvironment.start(undefined, log);
let stopping = false;
const stop = async (code: number) => {
  if (stopping) return;
  stopping = true;
  await env.stop();
  process.exit(code);
};
process.once('SIGINT', () => void stop(130));
process.once('SIGTERM', () => void stop(143));

if (values.serve) {
  console.log(`
Services are running; Ctrl-C stops them.
  export TOKEN=${env.token}
  export A=${env.regionA.url} B=${env.regionB.url}
  curl -s $A/health | jq
  curl -s -X POST $A/api/v1/state/locks/acquire -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \\
    -d '{"resource_id":"session_demo","region_origin":"us-east-1","lock_ttl_ms":5000,"operation_type":"CRM_UPDATE","correlation_id":"req_1"}'
See examples/contact-center/README.md for every route.`);
} else {
  const results = await runScenario(env, {
    agents: Number(values.agents),
    webhookDeliveries: Number(values.deliveries),
    log,
  });
  console.log(`\n${summaryTable(results)}`);
  const failed = results.filter((r) => r.outcome === 'fail').length;
  console.log(failed === 0 ? '\nall steps passed' : `\n${failed} step(s) failed`);
  await stop(failed === 0 ? 0 : 1);
}
