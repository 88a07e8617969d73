import { randomUUID } from 'node:crypto';
import { type RedisNodes, startRedisNodes } from '@cxkit/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointStore, isRevisionConflictError, type RedisClientLike } from '../src/index.js';
import { namespace, sessionKey } from './support/redis-harness.js';
import { seedVariables, v3 } from './support/schemas.js';

const base = { region: 'eu-west-1', flowVersion: '12', variables: seedVariables };

let nodes: RedisNodes;
let client: Redis;
/** How many pipelines the store sent, and how many commands each held. */
let sizes: number[] = [];

beforeAll(async () => {
  nodes = await startRedisNodes(1, { private: true });
  client = new Redis(nodes.urls[0]!, { maxRetriesPerRequest: 3 });
  const pipeline = client.pipeline.bind(client);
  client.pipeline = ((...args: Parameters<Redis['pipeline']>) => {
    const p = pipeline(...args);
    const exec = p.exec.bind(p);
    p.exec = ((...a: Parameters<typeof exec>) => {
      sizes.push(p.length);
      return exec(...a);
    }) as typeof p.exec;
    return p;
  }) as Redis['pipeline'];
});

afterAll(async () => {
  client?.disconnect();
  await nodes?.stop();
});

const store = () => new CheckpointStore({ redis: client, schema: v3, namespace });

describe('calls made in the same tick share one pipeline (single Redis)', () => {
  it('sends 20 concurrent saves as pipelines of at most 8 and gives every caller its own result', async () => {
    const s = store();
    const ids = Array.from({ length: 20 }, () => `tick_${randomUUID()}`);
    sizes = [];
    const saved = await Promise.all(ids.map((id, i) => s.save(id, { ...base, checkpointId: `chk_${i}` })));
    expect(sizes).toEqual([8, 8, 4]);
    saved.forEach((r, i) => {
      expect(r.revision).toBe(1);
      expect(r.checkpointId).toBe(`chk_${i}`);
    });
    const latest = await Promise.all(ids.map((id) => s.latest(id)));
    latest.forEach((r, i) => {
      expect(r.status).toBe('restored');
      if (r.status === 'restored') expect(r.checkpoint.checkpointId).toBe(`chk_${i}`);
    });
  });

  it('keeps the order calls were made in: a latest() issued after a save() in the same tick sees it', async () => {
    const s = store();
    const id = `tick_${randomUUID()}`;
    sizes = [];
    const [first, second, read, removed, after] = await Promise.all([
      s.save(id, base),
      s.save(id, { ...base, expectedRevision: 1 }),
      s.latest(id),
      s.delete(id),
      s.latest(id),
    ]);
    expect(sizes).toEqual([5]);
    expect([first.revision, second.revision]).toEqual([1, 2]);
    expect(read.revision).toBe(2);
    expect(removed).toBe(true);
    expect(after.status).toBe('absent');
  });

  it('rejects only the caller whose command failed; the others in the pipeline succeed', async () => {
    const s = store();
    const good = `tick_${randomUUID()}`;
    const broken = `tick_${randomUUID()}`;
    await client.set(sessionKey(broken), 'not a hash');
    sizes = [];
    const [ok, bad, conflict] = await Promise.allSettled([
      s.save(good, base),
      s.save(broken, base),
      s.save(good, { ...base, expectedRevision: 7 }),
    ]);
    expect(sizes).toEqual([3]);
    expect(ok.status === 'fulfilled' && ok.value.revision).toBe(1);
    expect(bad.status === 'rejected' && String(bad.reason)).toMatch(/WRONGTYPE/);
    expect(conflict.status === 'rejected' && isRevisionConflictError(conflict.reason)).toBe(true);
  });

  it('loads the script again when the server lost it (NOSCRIPT inside a pipeline)', async () => {
    const s = store();
    const ids = Array.from({ length: 5 }, () => `tick_${randomUUID()}`);
    await s.save(ids[0]!, base);
    await client.script('FLUSH');
    sizes = [];
    const saved = await Promise.all(ids.map((id) => s.save(id, base)));
    expect(sizes[0]).toBe(5);
    expect(saved.map((r) => r.revision)).toEqual([2, 1, 1, 1, 1]);
  });

  it('rejects every caller of a pipeline that cannot be built, without crashing the process', async () => {
    const broken: RedisClientLike = {
      evalsha: (...a) => client.evalsha(...a),
      eval: (...a) => client.eval(...a),
      hmget: (key, ...fields) => client.hmget(key, ...fields),
      hgetall: (key) => client.hgetall(key),
      del: (...keys) => client.del(...keys),
      pipeline: () => {
        throw new Error('pipeline unavailable');
      },
    };
    const s = new CheckpointStore({ redis: broken, schema: v3, namespace });
    const results = await Promise.allSettled([s.latest('tick_a'), s.latest('tick_b')]);
    expect(results.map((r) => r.status === 'rejected' && String(r.reason))).toEqual([
      'Error: pipeline unavailable',
      'Error: pipeline unavailable',
    ]);
    // One call alone goes straight out, without a pipeline.
    expect((await s.latest('tick_a')).status).toBe('absent');
  });

  it('sends each call on its own for clients without pipeline()', async () => {
    const plain: RedisClientLike = {
      evalsha: (...a) => client.evalsha(...a),
      eval: (...a) => client.eval(...a),
      hmget: (key, ...fields) => client.hmget(key, ...fields),
      hgetall: (key) => client.hgetall(key),
      del: (...keys) => client.del(...keys),
    };
    const s = new CheckpointStore({ redis: plain, schema: v3, namespace });
    const id = `tick_${randomUUID()}`;
    sizes = [];
    const [a, b] = await Promise.allSettled([
      s.save(id, { ...base, expectedRevision: 0 }),
      s.save(id, { ...base, expectedRevision: 0 }),
    ]);
    expect(sizes).toEqual([]);
    expect(a.status === 'fulfilled' && a.value.revision).toBe(1);
    expect(b.status === 'rejected' && isRevisionConflictError(b.reason)).toBe(true);
  });
});
