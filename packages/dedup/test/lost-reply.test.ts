import { type LostReplyProxy, startLostReplyProxy } from '@cxkit/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Deduplicator } from '../src/index.js';
import { type Env, suiteEnv } from './helpers.js';

let env: Env;
let proxy: LostReplyProxy;
let viaProxy: Redis;

suiteEnv((e) => {
  env = e;
});

beforeAll(async () => {
  proxy = await startLostReplyProxy(Number(new URL(env.url).port));
  // ioredis defaults: after the reconnect it re-sends the commands left unanswered.
  viaProxy = new Redis(proxy.url);
});

afterAll(async () => {
  viaProxy?.disconnect();
  await proxy?.close();
});

describe('a reply lost after the server ran the call (the client re-sends it)', () => {
  it('a re-sent claim is claimed again: the handler runs once, the other pod gets its result', async () => {
    const podA = new Deduplicator({ redis: viaProxy, namespace: 'lost1', owner: 'pod-a' });
    const podB = new Deduplicator({ redis: env.client(), namespace: 'lost1', owner: 'pod-b' });
    await podA.verify();
    let runs = 0;
    proxy.loseNextReply();
    const a = await podA.process('msg-1', async () => ++runs);
    const b = await podB.process('msg-1', async () => ++runs);
    expect(runs).toBe(1);
    expect(a).toMatchObject({ status: 'processed', result: 1, completedAt: expect.any(Number) });
    expect(b).toMatchObject({ status: 'duplicate', state: 'done', owner: 'pod-a', result: 1 });
    await Promise.all([podA.close(), podB.close()]);
  });

  it('a re-sent batch claim is claimed again for each of its ids', async () => {
    const podA = new Deduplicator({ redis: viaProxy, namespace: 'lost2', owner: 'pod-a' });
    await podA.verify();
    proxy.loseNextReply();
    const outcomes = await Promise.all(['m1', 'm2', 'm3'].map((id) => podA.claim(id)));
    expect(outcomes.map((o) => o.outcome)).toEqual(['claimed', 'claimed', 'claimed']);
    await podA.close();
  });

  it('a re-sent complete reports the message processed, not the lease lost', async () => {
    const podA = new Deduplicator({ redis: viaProxy, namespace: 'lost3', owner: 'pod-a' });
    await podA.verify();
    const claimed = await podA.claim('msg-1');
    if (claimed.outcome !== 'claimed') throw new Error(`not claimed: ${claimed.outcome}`);
    proxy.loseNextReply();
    expect(await claimed.lease.complete({ ok: true })).toEqual({ completedAt: expect.any(Number) });
    const again = await podA.claim('msg-1');
    expect(again).toMatchObject({ outcome: 'done', owner: 'pod-a', result: { ok: true } });
    await podA.close();
  });
});
