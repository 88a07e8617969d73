import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointV2, cxoneAgentState, genesysAcw } from '../src/demo/payloads.js';
import { startTestRegion, type TestRegion } from './helpers/in-process-region.js';

/**
 * The data node (the first Redis node: dedup, checkpoints, agent state, queues) stops answering
 * (SIGSTOP: the TCP connection stays open, no reply comes). Requests that need it must fail within the
 * command timeout, not wait for the node forever holding their connection, memory and the shutdown.
 */
let region: TestRegion;

beforeAll(async () => {
  region = await startTestRegion({ REDIS_COMMAND_TIMEOUT_MS: '1000' });
}, 120_000);

afterAll(async () => {
  await region?.stop();
}, 60_000);

const post = (url: string, body: unknown) =>
  region.app.inject({
    method: 'POST',
    url,
    headers: { authorization: `Bearer ${region.token}`, 'content-type': 'application/json' },
    payload: JSON.stringify(body),
  });

const HUNG = Symbol('hung');
const within = <T>(p: Promise<T>, ms: number) =>
  Promise.race([p, new Promise<typeof HUNG>((resolve) => setTimeout(() => resolve(HUNG), ms))]);

describe('a paused data node', () => {
  it('webhooks and checkpoints answer an error within the command timeout instead of hanging', async () => {
    const node = region.redis.nodes[0]!;
    await node.pause();
    try {
      const requests = [
        post('/webhooks/cxone', cxoneAgentState(31, 'Available')),
        post('/webhooks/genesys', genesysAcw()),
        post('/api/v2/sessions/session_paused/state/checkpoint', checkpointV2('session_paused', 'us-east-1')),
        region.app.inject({
          method: 'GET',
          url: '/api/v2/sessions/session_paused/state/latest',
          headers: { authorization: `Bearer ${region.token}` },
        }),
      ];
      for (const res of await Promise.all(requests.map((r) => within(r, 6_000)))) {
        expect(res).not.toBe(HUNG);
        if (res === HUNG) continue;
        expect(res.statusCode).toBeGreaterThanOrEqual(500);
        expect(res.headers['content-type']).toContain('application/problem+json');
      }
    } finally {
      await node.resume();
    }
    // Back: the same kinds of requests work again.
    expect((await post('/webhooks/cxone', cxoneAgentState(31, 'Available'))).statusCode).toBe(200);
    expect(
      (
        await post(
          '/api/v2/sessions/session_paused/state/checkpoint',
          checkpointV2('session_paused', 'us-east-1'),
        )
      ).statusCode,
    ).toBe(201);
  });
});
