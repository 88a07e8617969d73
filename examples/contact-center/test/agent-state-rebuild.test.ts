import { waitUntil } from '@cxkit/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cxoneAgentState } from '../src/demo/payloads.js';
import { startTestRegion, type TestRegion } from './helpers/in-process-region.js';

/**
 * Seed 003: Redis is the authority for agent state and the Postgres outbox is the source it is rebuilt
 * from. A region that starts while Redis has lost everything serves again once the rebuild from the
 * outbox finished, without any platform redelivering an event.
 */
describe('agent state across regions and Redis data loss', () => {
  let first: TestRegion;
  let second: TestRegion | undefined;

  beforeAll(async () => {
    first = await startTestRegion();
  }, 120_000);

  afterAll(async () => {
    await second?.stop();
    await first?.stop();
  }, 60_000);

  it('a region started on an empty Redis rebuilds agent state from the outbox', async () => {
    const at = Date.now();
    for (const [i, state] of ['Available', 'InboundContact', 'Unavailable'].entries()) {
      const res = await first.app.inject({
        method: 'POST',
        url: '/webhooks/cxone',
        headers: { authorization: `Bearer ${first.token}`, 'content-type': 'application/json' },
        payload: JSON.stringify(cxoneAgentState(9000 + i, state, new Date(at + i))),
      });
      expect(res.json()).toMatchObject({ status: 'processed', outcome: 'applied' });
    }
    // Redis restarts empty (no persistence): agent state, dedup markers and checkpoints are gone.
    await first.redis.nodes[0]!.command('FLUSHALL');

    second = await startTestRegion(
      { REGION: 'eu-west-1' },
      { redis: first.redis, pg: first.pg, secret: first.secret },
    );
    const read = (agent: string) =>
      second!.app.inject({
        method: 'GET',
        url: `/api/v2/agents/${agent}/state`,
        headers: { authorization: `Bearer ${second!.token}` },
      });
    await waitUntil(
      'agent state rebuilt from the outbox',
      async () => (await read('cxone-9002')).statusCode === 200,
      30_000,
      100,
    );
    expect((await read('cxone-9000')).json()).toMatchObject({ status: 'Available', version: at });
    expect((await read('cxone-9001')).json()).toMatchObject({ status: 'InboundContact', version: at + 1 });
    expect((await read('cxone-9002')).json()).toMatchObject({ status: 'Unavailable', version: at + 2 });
  });

  it('a change applied through one region is what the other serves next (near caches invalidated)', async () => {
    const deliver = (region: TestRegion, state: string, at: number) =>
      region.app.inject({
        method: 'POST',
        url: '/webhooks/cxone',
        headers: { authorization: `Bearer ${region.token}`, 'content-type': 'application/json' },
        payload: JSON.stringify(cxoneAgentState(9100, state, new Date(at))),
      });
    const read = async (region: TestRegion) =>
      (
        await region.app.inject({
          method: 'GET',
          url: '/api/v2/agents/cxone-9100/state',
          headers: { authorization: `Bearer ${region.token}` },
        })
      ).json() as { status?: string; version?: number };
    const at = Date.now();
    await deliver(first, 'Available', at);
    expect(await read(second!)).toMatchObject({ status: 'Available', version: at });
    expect(await read(first)).toMatchObject({ status: 'Available' });
    // Both near caches now hold v1; a newer event through the second region must reach the first.
    await deliver(second!, 'InboundContact', at + 1_000);
    await waitUntil(
      'first region serves the newer state',
      async () => (await read(first)).version === at + 1_000,
      10_000,
      50,
    );
    expect(await read(first)).toMatchObject({ status: 'InboundContact' });
  });
});
