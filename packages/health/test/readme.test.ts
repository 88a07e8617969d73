import { freePort, quickStart } from '@cxkit/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const qs = quickStart(import.meta.url, { redis: true, postgres: true });
beforeAll(() => qs.start(), 30_000);
afterAll(() => qs.stop());

/** Runs the quick start; returns its exit code, output and the probe's status code and JSON body. */
async function run(redisUrl: string) {
  const { code, out } = await qs.run({ REDIS_URL: redisUrl });
  const probe = /^(\d{3}) (\{.*\})$/m.exec(out);
  return { code, out, status: Number(probe?.[1]), body: probe ? JSON.parse(probe[2]!) : undefined };
}

describe('README quick start', () => {
  it('is the code of test/fixtures/quickstart.ts', () => {
    expect(qs.block()).toBe(qs.fixtureText());
  });

  it('runs against a real Redis and Postgres: GET /health is 200 with both components measured', async () => {
    const { code, out, status, body } = await run(qs.redisUrl);
    expect(code, out).toBe(0);
    expect(status, out).toBe(200);
    expect(body.status).toBe('healthy');
    const node = new URL(qs.redisUrl).host;
    expect(body.components.redis_quorum).toMatchObject({
      status: 'healthy',
      masters: 1,
      quorum: 1,
      nodes: { [node]: { status: 'ok', role: 'master' } },
    });
    expect(body.components.database_replication).toMatchObject({
      status: 'healthy',
      role: 'primary',
      replication_lag_ms: 0,
      max_allowed_lag_ms: 50,
    });
  }, 30_000);

  it('with Redis down: 503 naming the unreachable node, and the script still exits', async () => {
    const dead = `127.0.0.1:${await freePort()}`;
    const { code, out, status, body } = await run(`redis://${dead}`);
    expect(code, out).toBe(0);
    expect(status, out).toBe(503);
    expect(body.status).toBe('unhealthy');
    expect(body.components.redis_quorum).toMatchObject({ status: 'unhealthy', masters: 0 });
    expect(body.components.redis_quorum.error).toContain(dead);
    expect(body.components.redis_quorum.nodes[dead].status).toBe('unreachable');
    expect(body.components.database_replication.status).toBe('healthy');
  }, 30_000);
});
