import { randomUUID } from 'node:crypto';
import { type LostReplyProxy, type RedisNodes, startLostReplyProxy, startRedisNodes } from '@cxkit/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointStore } from '../src/index.js';
import { namespace } from './support/redis-harness.js';
import { seedVariables, v3 } from './support/schemas.js';

let nodes: RedisNodes;
let proxy: LostReplyProxy;
let viaProxy: Redis;

beforeAll(async () => {
  nodes = await startRedisNodes(1, { private: true });
  proxy = await startLostReplyProxy(Number(new URL(nodes.urls[0]!).port));
  // ioredis defaults, as in the README: after the reconnect it re-sends the commands left unanswered.
  viaProxy = new Redis(proxy.url);
});

afterAll(async () => {
  viaProxy?.disconnect();
  await proxy?.close();
  await nodes?.stop();
});

const sid = () => `lost_${randomUUID()}`;
const base = { region: 'eu-west-1', flowVersion: '12', variables: seedVariables };

describe('a save whose reply was lost after the server ran it (the client re-sends it)', () => {
  const store = () => new CheckpointStore({ redis: viaProxy, schema: v3, namespace });
  /** A first save loads the script, so the save under test is one EVALSHA that the server runs. */
  const warm = async (s: CheckpointStore<unknown, unknown>) => s.save(sid(), base);

  it('with expectedRevision 0: answered as the first run, not as a conflict with itself', async () => {
    const s = store();
    await warm(s);
    const id = sid();
    proxy.loseNextReply();
    const saved = await s.save(id, { ...base, checkpointId: 'chk_mine', expectedRevision: 0 });
    expect(saved).toMatchObject({ revision: 1, checkpointId: 'chk_mine' });
    const latest = await s.latest(id);
    expect(latest.status === 'restored' && latest.checkpoint).toMatchObject({
      revision: 1,
      checkpointId: 'chk_mine',
      savedAt: saved.savedAt,
    });
  });

  it('without expectedRevision: one save is one revision', async () => {
    const s = store();
    await warm(s);
    const id = sid();
    await s.save(id, base);
    proxy.loseNextReply();
    const saved = await s.save(id, base);
    expect(saved.revision).toBe(2);
    expect((await s.history(id)).map((h) => h.revision)).toEqual([2, 1]);
    const latest = await s.latest(id);
    expect(latest.status === 'restored' && latest.checkpoint.savedAt).toEqual(saved.savedAt);
  });

  it('saves of several sessions sharing one script call are each answered as their first run', async () => {
    const s = store();
    await warm(s);
    const ids = [sid(), sid(), sid()];
    proxy.loseNextReply();
    const saved = await Promise.all(ids.map((id) => s.save(id, { ...base, expectedRevision: 0 })));
    expect(saved.map((r) => r.revision)).toEqual([1, 1, 1]);
    for (const id of ids) expect((await s.history(id)).map((h) => h.revision)).toEqual([1]);
  });
});
