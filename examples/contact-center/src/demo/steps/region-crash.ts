import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { call } from '../api-client.js';
import type { DemoEnvironment } from '../environment.js';
import { checkpointV1, crmUpdate, idempotencyKeyFor, lockRequest } from '../payloads.js';
import { type Log, type StepResult, verdict } from '../step-result.js';

export interface CrashedSession {
  sessionId: string;
  checkpointSaved: boolean;
}

/**
 * Step 3 (seed 001, edge case 1): region A handles a session (holds its lock, checkpoints its flow) and is
 * SIGKILLed: no release, no drain. Region B is refused while A's heartbeat is fresh, overrides the lock
 * once it is stale, and the override is audited naming A. The write A had in flight, delivered late with
 * A's fence, is rejected by the fenced CRM write.
 */
export async function regionCrash(
  env: DemoEnvironment,
  log: Log,
): Promise<{ result: StepResult; session: CrashedSession }> {
  const sessionId = `session_${randomUUID()}`;
  const A = env.regionA;
  const B = env.regionB;
  const token = env.token;
  const ttl = env.settings.lockMaxTtlMs;
  const heldByA = await call(A.url, 'POST', '/api/v1/state/locks/acquire', {
    token,
    body: lockRequest(sessionId, A.region, ttl),
  });
  const checkpoint = await call(A.url, 'POST', `/api/v2/sessions/${sessionId}/state/checkpoint`, {
    token,
    body: checkpointV1(sessionId, A.region),
  });
  const fenceA = Number(heldByA.body.fence);
  log(
    `  ${A.region} holds ${sessionId} (fence ${fenceA}) and checkpointed its flow (v1); SIGKILL ${A.region}`,
  );
  await A.process.kill();
  const killedAt = performance.now();

  const attempts: number[] = [];
  let taken = await call(B.url, 'POST', '/api/v1/state/locks/acquire', {
    token,
    body: lockRequest(sessionId, B.region, ttl),
  });
  attempts.push(taken.status);
  const firstRefusedBy = (taken.body.holder as { region?: string } | undefined)?.region;
  while (taken.status === 409 && performance.now() - killedAt < 30_000) {
    await sleep(200);
    taken = await call(B.url, 'POST', '/api/v1/state/locks/acquire', {
      token,
      body: lockRequest(sessionId, B.region, ttl),
    });
    attempts.push(taken.status);
  }
  const waitedMs = Math.round(performance.now() - killedAt);
  const overridden = taken.body.overridden as { region?: string; fence?: number } | undefined;
  const fenceB = Number(taken.body.fence);
  log(
    `  ${B.region}: ${attempts.filter((s) => s === 409).length}x409 (holder ${firstRefusedBy}), then ${taken.status} after ${waitedMs} ms, fence ${fenceB}, overrode ${overridden?.region}`,
  );

  const audit = await env.pool.query<{ previous_region: string; region: string }>(
    'SELECT previous_region, region FROM lock_overrides WHERE resource_id = $1',
    [sessionId],
  );

  const at = '2024-05-15T14:40:00Z';
  const bWrite = await call(B.url, 'POST', '/api/v2/integrations/crm/contact/update', {
    token,
    headers: { 'idempotency-key': idempotencyKeyFor(sessionId, 'UPDATE_NOTES', at) },
    body: {
      ...crmUpdate(sessionId, 'Callback scheduled by the surviving region.'),
      lock: { lock_token: taken.body.lock_token, fence: fenceB },
    },
  });
  const lateWrite = await call(B.url, 'POST', '/api/v2/integrations/crm/contact/update', {
    token,
    headers: { 'idempotency-key': idempotencyKeyFor(sessionId, 'UPDATE_NOTES', '2024-05-15T14:39:00Z') },
    body: {
      ...crmUpdate(sessionId, 'Late write from the crashed region.'),
      lock: { lock_token: heldByA.body.lock_token, fence: fenceA },
    },
  });
  const notes = await env.pool.query<{ fence: string }>(
    'SELECT fence FROM crm_contact_notes WHERE session_id = $1',
    [sessionId],
  );
  log(
    `  ${B.region} write with fence ${fenceB}: ${bWrite.status}; ${A.region}'s late write with fence ${fenceA}: ${lateWrite.status} ${lateWrite.body.code ?? ''}`,
  );
  await call(B.url, 'POST', '/api/v1/state/locks/release', {
    token,
    body: { resource_id: sessionId, lock_token: taken.body.lock_token },
  });

  const pass =
    heldByA.status === 200 &&
    attempts[0] === 409 &&
    firstRefusedBy === A.region &&
    taken.status === 200 &&
    waitedMs >= env.settings.lockStaleAfterMs * 0.5 &&
    overridden?.region === A.region &&
    fenceB > fenceA &&
    audit.rows.some((r) => r.previous_region === A.region && r.region === B.region) &&
    bWrite.status === 200 &&
    lateWrite.status === 409 &&
    lateWrite.body.code === 'STALE_FENCE' &&
    notes.rows.length === 1 &&
    Number(notes.rows[0]?.fence) === fenceB;
  return {
    session: { sessionId, checkpointSaved: checkpoint.status === 201 },
    result: {
      step: '3. region crash',
      expected: `A SIGKILLed -> B 409 until stale (${env.settings.lockStaleAfterMs} ms), then override audited naming A; A's late write rejected`,
      observed: `409 x${attempts.length - 1} then ${taken.status} after ${waitedMs} ms, audit prev=${audit.rows[0]?.previous_region ?? '-'}, fences ${fenceA}->${fenceB}, late write ${lateWrite.status} ${String(lateWrite.body.code ?? '')}, rows ${notes.rows.length}`,
      outcome: verdict(pass),
    },
  };
}
