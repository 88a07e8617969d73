import { setTimeout as sleep } from 'node:timers/promises';
import { call } from '../api-client.js';
import type { DemoEnvironment } from '../environment.js';
import { type Log, type StepResult, verdict } from '../step-result.js';

interface HealthBody {
  status: string;
  components: Record<string, { status: string; error?: string }>;
}

/**
 * Step 5 (seed 001, section 4): one Redis node stops answering (SIGSTOP: a partition as clients see it).
 * `/health` turns 503 and names `redis_quorum`; after the node is back it turns 200 only after
 * `recoverAfter` consecutive healthy rounds, so a flapping node does not flap the load balancer.
 */
export async function redisPartition(env: DemoEnvironment, log: Log): Promise<StepResult> {
  const node = env.redis.nodes?.[2];
  const step = '5. redis partition';
  const expected = `/health 503 naming redis_quorum; 200 again only after ${env.settings.recoverAfter} good rounds`;
  if (!node) {
    return {
      step,
      expected,
      observed: 'Redis came from REDIS_NODES/REDIS_URL and cannot be paused here',
      outcome: 'skipped',
    };
  }
  const B = env.regionB;
  const poll = async (want: number, timeoutMs: number) => {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const res = await call<HealthBody>(B.url, 'GET', '/health');
      if (res.status === want || performance.now() > deadline) return res;
      await sleep(50);
    }
  };
  // Start from a healthy region (a busy machine can make a round slow; that is not this step's point).
  const before = await poll(200, 30_000);
  log(`  pausing Redis node ${node.port} (SIGSTOP)`);
  await node.pause();
  let down: Awaited<ReturnType<typeof poll>>;
  let stillDown: Awaited<ReturnType<typeof poll>>;
  let recovered: Awaited<ReturnType<typeof poll>>;
  let recoveredAfterMs: number;
  try {
    down = await poll(503, 15_000);
  } finally {
    await node.resume();
  }
  const resumedAt = performance.now();
  log(`  resumed Redis node ${node.port} (SIGCONT)`);
  try {
    stillDown = await call<HealthBody>(B.url, 'GET', '/health');
    recovered = await poll(200, 20_000);
    recoveredAfterMs = Math.round(performance.now() - resumedAt);
  } catch (err) {
    return { step, expected, observed: `error: ${(err as Error).message}`, outcome: 'fail' };
  }
  const failing = Object.entries(down.body.components ?? {})
    .filter(([, c]) => c.status !== 'healthy')
    .map(([name, c]) => `${name}=${c.status}`);
  log(
    `  while paused: ${down.status} ${failing.join(', ')} (${down.body.components?.redis_quorum?.error ?? ''})`,
  );
  log(`  after resume: ${stillDown.status} at first, ${recovered.status} after ${recoveredAfterMs} ms`);
  const minRecoveryMs = (env.settings.recoverAfter - 1) * env.settings.healthIntervalMs;
  return {
    step,
    expected,
    observed: `${before.status} -> ${down.status} [${failing.join(', ')}] -> ${recovered.status} ${recoveredAfterMs} ms after resume`,
    outcome: verdict(
      before.status === 200 &&
        down.status === 503 &&
        failing.some((f) => f.startsWith('redis_quorum=')) &&
        stillDown.status === 503 &&
        recovered.status === 200 &&
        recoveredAfterMs >= minRecoveryMs,
    ),
  };
}
