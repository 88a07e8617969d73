import { describe, expect, it } from 'vitest';
import { isQuorumUnavailableError } from '../src/index.js';
import { oneMaster } from './helpers.js';

const env = oneMaster(1_000);

const key = (resource: string) => `cxkit:locks:{${resource}}`;

describe('lock record layout', () => {
  it('a release leaves only the high-water fence, without a TTL, and the next grant continues from it', async () => {
    const first = await env.manager.acquire('rec:fence', { heartbeat: false, operation: 'WFM_WRITE' });
    const live = (await env.clients[1]!.get(key('rec:fence')))!.split(' ');
    expect(live.slice(1, 4)).toEqual([String(first.fence), first.token, String(first.fence)]);
    // Expiry is the node's TIME + ttl, judged by the scripts; Redis itself never expires the record.
    expect(Number(live[0])).toBeGreaterThan(Date.now());
    expect(await env.clients[1]!.pttl(key('rec:fence'))).toBe(-1);
    expect(await first.release()).toEqual({ released: true });
    expect(await env.clients[1]!.get(key('rec:fence'))).toBe(`0 ${first.fence}`);
    const second = await env.manager.acquire('rec:fence', { heartbeat: false });
    expect(second.fence).toBe(first.fence + 1);
    await second.release();
  });

  it('an expired record is free again and keeps counting fences', async () => {
    const first = await env.manager.acquire('rec:expired', { ttlMs: 150, heartbeat: false });
    await new Promise((r) => setTimeout(r, 300));
    const second = await env.manager.acquire('rec:expired', { heartbeat: false });
    expect(second.fence).toBe(first.fence + 1);
    expect(await first.release()).toEqual({ released: false, reason: 'expired' });
    expect((await env.manager.inspect('rec:expired')).holder?.token).toBe(second.token);
    await second.release();
  });

  it('a release after the event loop was blocked past the TTL reports expired, not released', async () => {
    const lock = await env.manager.acquire('rec:blocked', { ttlMs: 150, heartbeat: false });
    // Blocked synchronously: the lock's own expiry timer cannot fire before release() runs.
    const until = Date.now() + 300;
    while (Date.now() < until) {}
    expect(await lock.release()).toEqual({ released: false, reason: 'expired' });
    // The record is still marked released, so the next acquisition continues the fence.
    const next = await env.manager.acquire('rec:blocked', { heartbeat: false });
    expect(next.fence).toBe(lock.fence + 1);
    expect(await next.release()).toEqual({ released: true });
  });

  it('a heartbeat re-claims a record the node lost without lowering its high-water fence', async () => {
    const lock = await env.manager.acquire('rec:reclaim', { ttlMs: 2_000 });
    // The node forgot the holder but saw a later fence (e.g. a failed contender's grant, then cleanup).
    await env.clients[1]!.set(key('rec:reclaim'), `0 ${lock.fence + 5}`);
    await new Promise((r) => setTimeout(r, 300));
    const fields = (await env.clients[1]!.get(key('rec:reclaim')))!.split(' ');
    expect(fields.slice(1, 4)).toEqual([String(lock.fence + 5), lock.token, String(lock.fence)]);
    expect(lock.signal.aborted).toBe(false);
    expect(await lock.release()).toEqual({ released: true });
    const next = await env.manager.acquire('rec:reclaim', { heartbeat: false });
    expect(next.fence).toBe(lock.fence + 6);
    await next.release();
  });

  it('a record in another layout fails the call with CXKIT_LAYOUT and is left as it was', async () => {
    const old = 'tok-from-an-older-layout 7 1 1 0 0 0 ';
    await env.clients[1]!.set(key('rec:old'), old);
    const err = await env.manager.acquire('rec:old').catch((e: unknown) => e);
    expect(isQuorumUnavailableError(err)).toBe(true);
    expect(String((err as { nodes: { error?: unknown }[] }).nodes[0]?.error)).toContain('CXKIT_LAYOUT');
    expect(await env.clients[1]!.get(key('rec:old'))).toBe(old);
  });
});
