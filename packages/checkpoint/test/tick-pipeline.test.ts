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
/** How many keys each script call (EVALSHA, alone or in a pipeline) carried. */
let keys: number[] = [];

/** Records the number of keys of each EVALSHA made through `target`. */
function countKeys(target: { evalsha: Redis['evalsha'] }): void {
  const evalsha = target.evalsha.bind(target) as (...a: unknown[]) => unknown;
  target.evalsha = ((...a: unknown[]) => {
    keys.push(Number(a[1]));
    return evalsha(...a);
  }) as Redis['evalsha'];
}

beforeAll(async () => {
  nodes = await startRedisNodes(1, { private: true });
  client = new Redis(nodes.urls[0]!, { maxRetriesPerRequest: 3 });
  countKeys(client);
  const pipeline = client.pipeline.bind(client);
  client.pipeline = ((...args: Parameters<Redis['pipeline']>) => {
    const p = pipeline(...args);
    countKeys(p as unknown as { evalsha: Redis['evalsha'] });
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

/** The shared client's calls without `pipeline()`, as a minimal RedisClientLike. */
function withoutPipeline(): RedisClientLike {
  return {
    evalsha: (...a) => client.evalsha(...a),
    eval: (...a) => client.eval(...a),
    hmget: (key, ...fields) => client.hmget(key, ...fields),
    hgetall: (key) => client.hgetall(key),
    del: (...keys) => client.del(...keys),
  };
}

describe('calls made in the same tick share one pipeline (single Redis)', () => {
  it('sends a call at once while nothing else is queued or on its way', async () => {
    const s = store();
    keys = [];
    const saved = s.save(`tick_${randomUUID()}`, base);
    expect(keys).toEqual([1]);
    expect((await saved).revision).toBe(1);
  });

  it('sends 20 concurrent saves as script calls of at most 8 sessions and gives every caller its own result', async () => {
    const s = store();
    const ids = Array.from({ length: 20 }, () => `tick_${randomUUID()}`);
    sizes = [];
    keys = [];
    const saved = await Promise.all(ids.map((id, i) => s.save(id, { ...base, checkpointId: `chk_${i}` })));
    // The first leaves at once; the others wait for the first to be on its way and go together.
    expect(keys).toEqual([1, 8, 8, 3]);
    // Each flush holds one call only, so it goes out without a pipeline.
    expect(sizes).toEqual([]);
    saved.forEach((r, i) => {
      expect(r.revision).toBe(1);
      expect(r.checkpointId).toBe(`chk_${i}`);
    });
    const latest = await Promise.all(ids.map((id) => s.latest(id)));
    expect(sizes).toEqual([8, 8, 3]);
    latest.forEach((r, i) => {
      expect(r.status).toBe('restored');
      if (r.status === 'restored') expect(r.checkpoint.checkpointId).toBe(`chk_${i}`);
    });
  });

  it('keeps the order calls were made in: a latest() issued after a save() in the same tick sees it', async () => {
    const s = store();
    const id = `tick_${randomUUID()}`;
    sizes = [];
    keys = [];
    const [first, second, read, removed, after] = await Promise.all([
      s.save(id, base),
      s.save(id, { ...base, expectedRevision: 1 }),
      s.latest(id),
      s.delete(id),
      s.latest(id),
    ]);
    expect(keys).toEqual([1, 1]);
    expect(sizes).toEqual([4]);
    expect([first.revision, second.revision]).toEqual([1, 2]);
    expect(read.revision).toBe(2);
    expect(removed).toBe(true);
    expect(after.status).toBe('absent');
  });

  /** A read that leaves at once, so that the calls after it in the tick queue up. */
  const opener = (s: ReturnType<typeof store>) => s.latest(`tick_${randomUUID()}`);

  it('merges only saves next to each other: a read between two saves sees the first only', async () => {
    const s = store();
    const id = `tick_${randomUUID()}`;
    keys = [];
    const [, first, read, second] = await Promise.all([
      opener(s),
      s.save(id, base),
      s.latest(id),
      s.save(id, base),
    ]);
    expect(keys).toEqual([1, 1]);
    expect([first.revision, read.revision, second.revision]).toEqual([1, 1, 2]);
  });

  it('pads the arguments of saves without conditions when merged with saves that have them', async () => {
    const s = store();
    const [a, b, c] = [`tick_${randomUUID()}`, `tick_${randomUUID()}`, `tick_${randomUUID()}`] as const;
    await s.save(b, base);
    keys = [];
    const [, ...results] = await Promise.allSettled([
      opener(s),
      s.save(a, base),
      s.save(b, { ...base, fence: 5, expectedRevision: 1 }),
      s.save(c, { ...base, expectedRevision: 3 }),
    ]);
    expect(keys).toEqual([3]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    expect(await client.hget(sessionKey(a), 'm')).toMatch(/^1 10 \d+$/);
    expect(await client.hget(sessionKey(b), 'm')).toMatch(/^2 10 \d+ 5$/);
    expect(await client.exists(sessionKey(c))).toBe(0);
  });

  it('rejects only the caller whose save failed; the others in the same call succeed', async () => {
    const s = store();
    const good = `tick_${randomUUID()}`;
    const broken = `tick_${randomUUID()}`;
    await client.set(sessionKey(broken), 'not a hash');
    keys = [];
    const [, ok, bad, conflict] = await Promise.allSettled([
      opener(s),
      s.save(good, base),
      s.save(broken, base),
      s.save(good, { ...base, expectedRevision: 7 }),
    ]);
    expect(keys).toEqual([3]);
    expect(ok.status === 'fulfilled' && ok.value.revision).toBe(1);
    expect(bad.status === 'rejected' && String(bad.reason)).toMatch(/WRONGTYPE/);
    expect(conflict.status === 'rejected' && isRevisionConflictError(conflict.reason)).toBe(true);
    // A failing command among other commands of a pipeline rejects that caller alone too.
    sizes = [];
    const [, saved, read] = await Promise.allSettled([opener(s), s.save(broken, base), s.latest(good)]);
    expect(sizes).toEqual([2]);
    expect(saved.status === 'rejected' && String(saved.reason)).toMatch(/WRONGTYPE/);
    expect(read.status === 'fulfilled' && read.value.revision).toBe(1);
    // Alone, too.
    await expect(s.save(broken, base)).rejects.toThrow(/WRONGTYPE/);
  });

  it('loads the script again when the server lost it (NOSCRIPT alone and inside a pipeline)', async () => {
    const s = store();
    const ids = Array.from({ length: 5 }, () => `tick_${randomUUID()}`);
    await s.save(ids[0]!, base);
    await client.script('FLUSH');
    const saved = await Promise.all(ids.map((id) => s.save(id, base)));
    expect(saved.map((r) => r.revision)).toEqual([2, 1, 1, 1, 1]);
    await client.script('FLUSH');
    sizes = [];
    const [, again, read] = await Promise.all([opener(s), s.save(ids[1]!, base), s.latest(ids[1]!)]);
    expect(sizes).toEqual([2]);
    expect(again.revision).toBe(2);
    // The reloaded script runs after the rest of the pipeline: the read may not see that save yet.
    expect(read.status).toBe('restored');
  });

  it('rejects every caller of a pipeline that cannot be built, without crashing the process', async () => {
    const broken: RedisClientLike = {
      ...withoutPipeline(),
      pipeline: () => {
        throw new Error('pipeline unavailable');
      },
    };
    const s = new CheckpointStore({ redis: broken, schema: v3, namespace });
    const results = await Promise.allSettled([s.latest('tick_a'), s.latest('tick_b'), s.latest('tick_c')]);
    // The first one leaves alone, without a pipeline.
    expect(results.map((r) => (r.status === 'rejected' ? String(r.reason) : r.value.status))).toEqual([
      'absent',
      'Error: pipeline unavailable',
      'Error: pipeline unavailable',
    ]);
  });

  it('sends each call on its own for clients without pipeline()', async () => {
    const plain = withoutPipeline();
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
