import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { type RedisNodes, startRedisNodes } from '@cxkit/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointStore, StaleFenceError } from '../src/index.js';
import { sessionKey as key, namespace } from './support/redis-harness.js';
import { seedVariables, v1, v3 } from './support/schemas.js';

let nodes: RedisNodes;
let client: Redis;

beforeAll(async () => {
  nodes = await startRedisNodes(1, { private: true });
  client = new Redis(nodes.urls[0]!, { maxRetriesPerRequest: 3 });
});

afterAll(async () => {
  client?.disconnect();
  await nodes?.stop();
});

const sid = () => `layout_${randomUUID()}`;
const base = { region: 'eu-west-1', flowVersion: '12', variables: seedVariables };
const store = (options: { history?: number; ttlSeconds?: number; maxAgeSeconds?: number } = {}) =>
  new CheckpointStore({ redis: client, schema: v3, namespace, ...options });
const fields = async (id: string) => (await client.hkeys(key(id))).sort();
const revisions = async (s: CheckpointStore<unknown, unknown>, id: string) =>
  (await s.history(id, { limit: 1_000 })).map((e) => e.revision);
/** `r:<n>` for the given revisions plus `cur` and `m`, sorted like `fields()`. */
const layout = (...kept: number[]) => ['cur', 'm', ...kept.map((n) => `r:${n}`)].sort();

describe('Redis layout: one hash per session, every kept revision in its own field', () => {
  it('writes the latest into cur and r:<rev>, keeps the first and the newest `history`, and a packed meta field', async () => {
    const s = store({ history: 3 });
    const id = sid();
    for (let i = 0; i < 6; i++) await s.save(id, { ...base, fence: 7 });
    expect(await fields(id)).toEqual(layout(1, 4, 5, 6));
    const [meta, cur, r6] = await client.hmget(key(id), 'm', 'cur', 'r:6');
    expect(cur).toBe(r6);
    expect(cur).toMatch(/^\{"revision":6,"savedAt":\d{13},/);
    const first = await s.get(id, 1);
    expect(meta).toBe(`6 3 ${first.status === 'restored' && first.checkpoint.savedAt.getTime()} 7`);
    expect(await revisions(s, id)).toEqual([6, 5, 4, 1]);
  });

  it('deletes the fields leaving the window at once when history is lowered, never the first', async () => {
    const id = sid();
    const wide = store({ history: 10 });
    for (let i = 0; i < 8; i++) await wide.save(id, base);
    expect(await fields(id)).toEqual(layout(1, 2, 3, 4, 5, 6, 7, 8));
    await store({ history: 2 }).save(id, base);
    expect(await fields(id)).toEqual(layout(1, 8, 9));
    await store({ history: 1 }).save(id, base);
    expect(await fields(id)).toEqual(layout(1, 10));
    expect(await revisions(wide, id)).toEqual([10, 1]);
    expect((await wide.get(id, 9)).status).toBe('absent');
  });

  it('keeps what it has when history is raised and resumes trimming where the new window ends', async () => {
    const id = sid();
    const narrow = store({ history: 2 });
    for (let i = 0; i < 5; i++) await narrow.save(id, base);
    const wide = store({ history: 4 });
    await wide.save(id, base);
    expect(await fields(id)).toEqual(layout(1, 4, 5, 6));
    expect(await revisions(wide, id)).toEqual([6, 5, 4, 1]);
    // A limit counts checkpoints found, not revisions of the window that were trimmed before.
    expect((await wide.history(id, { limit: 4 })).map((e) => e.revision)).toEqual([6, 5, 4, 1]);
    await wide.save(id, base);
    await wide.save(id, base);
    expect(await fields(id)).toEqual(layout(1, 5, 6, 7, 8));
    expect(await revisions(wide, id)).toEqual([8, 7, 6, 5, 1]);
  });

  it('starts over after the key expired: revision 1, no fence, no old fields', async () => {
    const s = store({ history: 2 });
    const id = sid();
    for (let i = 0; i < 4; i++) await s.save(id, { ...base, fence: 50 });
    await client.pexpire(key(id), 1);
    await sleep(20);
    const again = await s.save(id, { ...base, fence: 3, expectedRevision: 0 });
    expect(again.revision).toBe(1);
    expect(await fields(id)).toEqual(layout(1));
    expect((await client.hget(key(id), 'm'))?.split(' ')).toEqual([
      '1',
      '2',
      String(again.savedAt.getTime()),
      '3',
    ]);
  });

  it('starts over when a store with a shorter maxAgeSeconds finds an older session', async () => {
    const id = sid();
    const long = store({ ttlSeconds: 600, maxAgeSeconds: 3_600 });
    await long.save(id, { ...base, fence: 9 });
    await long.save(id, { ...base, fence: 9 });
    await sleep(1_100);
    // Still there under the first store's TTL, but past this store's hard age: gone, then new.
    expect((await long.latest(id)).revision).toBe(2);
    const short = store({ ttlSeconds: 1, maxAgeSeconds: 1 });
    const saved = await short.save(id, { ...base, fence: 1 });
    expect(saved.revision).toBe(1);
    expect(await fields(id)).toEqual(layout(1));
    const ttl = await client.pttl(key(id));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(1_000);
    await expect(short.save(id, { ...base, fence: 0 })).rejects.toThrow(StaleFenceError);
  });

  it('slides the TTL with each save, capped at the hard age from the first save', async () => {
    const id = sid();
    const s = store({ ttlSeconds: 5, maxAgeSeconds: 6 });
    const expireAt = async () => Number(await client.call('PEXPIRETIME', key(id)));
    const first = await s.save(id, base);
    expect(await expireAt()).toBe(first.savedAt.getTime() + 5_000);
    await sleep(1_500);
    await s.save(id, base);
    expect(await expireAt()).toBe(first.savedAt.getTime() + 6_000);
  });

  it('a write-back replaces both copies of the latest, and a save in between wins', async () => {
    const id = sid();
    await new CheckpointStore({ redis: client, schema: v1, namespace }).save(id, {
      region: 'eu-west-1',
      flowVersion: '1',
      variables: { queue: 'billing', crm: 'cust_1', authenticated: true },
    });
    const writing = new CheckpointStore({ redis: client, schema: v3, namespace, writeBackMigrated: true });
    expect(await writing.latest(id)).toMatchObject({ status: 'migrated', writtenBack: true });
    const [cur, r1] = await client.hmget(key(id), 'cur', 'r:1');
    expect(cur).toBe(r1);
    expect(JSON.parse(cur!)).toMatchObject({ revision: 1, schemaVersion: 3, migratedFrom: 1 });
    expect((await writing.get(id, 1)).status).toBe('restored');
  });

  it('a write-back never replaces a new session whose first checkpoint took the same revision', async () => {
    const id = sid();
    const old = new CheckpointStore({ redis: client, schema: v1, namespace });
    await old.save(id, {
      region: 'eu-west-1',
      flowVersion: '1',
      variables: { queue: 'billing', crm: 'cust_1', authenticated: true },
    });
    // Between the write-back's read and its write, the session is deleted and starts over at revision 1.
    let armed = true;
    const racing = new Proxy(client, {
      get(target, prop) {
        if (prop === 'pipeline') return undefined; // calls go out one by one, through hmget below
        if (prop === 'hmget') {
          return async (...args: Parameters<Redis['hmget']>) => {
            const read = await target.hmget(...args);
            if (armed) {
              armed = false;
              await store().delete(id);
              await store().save(id, { ...base, checkpointId: 'chk_new_session' });
            }
            return read;
          };
        }
        const value = Reflect.get(target, prop);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const writing = new CheckpointStore({ redis: racing, schema: v3, namespace, writeBackMigrated: true });
    expect(await writing.latest(id)).toMatchObject({ status: 'migrated', writtenBack: false });
    expect(await store().latest(id)).toMatchObject({
      status: 'restored',
      checkpoint: { revision: 1, checkpointId: 'chk_new_session' },
    });
  });
});
