import { randomUUID } from 'node:crypto';
import { call } from '../api-client.js';
import type { DemoEnvironment } from '../environment.js';
import { lockRequest } from '../payloads.js';
import { type Log, type StepResult, verdict } from '../step-result.js';

/** Step 2 (seed 001, section 1): both regions go for the same session lock at the same moment. */
export async function lockContention(env: DemoEnvironment, log: Log): Promise<StepResult> {
  const session = `session_${randomUUID()}`;
  const ttl = env.settings.lockMaxTtlMs;
  const [a, b] = await Promise.all(
    [env.regionA, env.regionB].map((r) =>
      call(r.url, 'POST', '/api/v1/state/locks/acquire', {
        token: env.token,
        body: lockRequest(session, r.region, ttl),
      }),
    ),
  );
  const statuses = [a!.status, b!.status].sort();
  const winner = a!.status === 200 ? env.regionA : env.regionB;
  const loser = a!.status === 200 ? b! : a!;
  const holder = (loser.body.holder ?? {}) as { region?: string };
  log(
    `  ${env.regionA.region}: ${a!.status}, ${env.regionB.region}: ${b!.status}; 409 names holder ${holder.region}`,
  );
  const winnerBody = (a!.status === 200 ? a! : b!).body;
  const released = await call(winner.url, 'POST', '/api/v1/state/locks/release', {
    token: env.token,
    body: { resource_id: session, lock_token: winnerBody.lock_token },
  });
  return {
    step: '2. concurrent lock',
    expected: 'one 200 (token + fence), one 409 naming the holder',
    observed: `${statuses.join(' + ')}, holder ${holder.region ?? '-'}, release ${released.status}`,
    outcome: verdict(
      statuses[0] === 200 &&
        statuses[1] === 409 &&
        holder.region === winner.region &&
        released.body.released === true,
    ),
  };
}
