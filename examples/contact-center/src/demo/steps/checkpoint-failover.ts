import { randomUUID } from 'node:crypto';
import { call } from '../api-client.js';
import { type DemoEnvironment, REGION_A } from '../environment.js';
import { checkpointV2 } from '../payloads.js';
import { type Log, type StepResult, verdict } from '../step-result.js';
import type { CrashedSession } from './region-crash.js';

/**
 * Step 4 (seed 001, section 3 and edge case 3): the flow of the crashed session re-enters in B, which
 * runs the newer flow release (schema v2), and restores A's v1 checkpoint through the upcast. Then A
 * comes back still on v1 and reads a v2 checkpoint: it cannot, so it answers defaults and routes the
 * contact to a live agent instead of failing.
 */
export async function checkpointFailover(
  env: DemoEnvironment,
  crashed: CrashedSession,
  log: Log,
): Promise<StepResult> {
  const B = env.regionB;
  const restored = await call(B.url, 'GET', `/api/v2/sessions/${crashed.sessionId}/state/latest`, {
    token: env.token,
  });
  const vars = restored.body.variables as
    | { auth?: { status?: string; method?: string }; routing_queue?: string }
    | undefined;
  log(
    `  ${B.region} restores ${crashed.sessionId}: ${restored.body.status} from v${restored.body.migrated_from ?? '?'}, queue ${vars?.routing_queue}, auth ${JSON.stringify(vars?.auth)}`,
  );

  // A comes back (still on flow schema v1) while B already writes v2 checkpoints.
  log(`  restarting ${REGION_A} (flow schema v1)`);
  env.regionA = await env.startRegion(REGION_A, 1);
  const newer = `session_${randomUUID()}`;
  await call(B.url, 'POST', `/api/v2/sessions/${newer}/state/checkpoint`, {
    token: env.token,
    body: checkpointV2(newer, B.region),
  });
  const degraded = await call(env.regionA.url, 'GET', `/api/v2/sessions/${newer}/state/latest`, {
    token: env.token,
  });
  log(
    `  ${REGION_A} reads a v2 checkpoint: ${degraded.status} ${degraded.body.status} (${degraded.body.reason}), route_to ${degraded.body.route_to}`,
  );

  const pass =
    crashed.checkpointSaved &&
    restored.status === 200 &&
    restored.body.status === 'migrated' &&
    restored.body.migrated_from === 1 &&
    restored.body.saved_in_region === REGION_A &&
    vars?.auth?.status === 'verified' &&
    vars?.routing_queue === 'billing_support_priority' &&
    degraded.status === 200 &&
    degraded.body.status === 'incompatible' &&
    degraded.body.route_to === 'live_agent';
  return {
    step: '4. checkpoint handoff',
    expected: "A's v1 checkpoint restored in B as v2; v2 read by a v1 region -> defaults + live_agent",
    observed: `B: ${restored.body.status} v${restored.body.migrated_from ?? '?'}->v${restored.body.schema_version}; A(v1): ${degraded.body.status}, route_to ${degraded.body.route_to}`,
    outcome: verdict(pass),
  };
}
