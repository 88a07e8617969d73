import { parseInfo } from '@cxkit/testkit';
import { describe, expect, it } from 'vitest';
import { LockNode } from '../src/node.js';
import { scripts } from '../src/scripts.js';
import { oneMaster } from './helpers.js';

// A release followed in the same write by an acquire of the same lock runs as one hand-off script. It
// must end exactly as the two scripts in order would (record, replies), and fall back to them whenever
// the releasing owner's live record is not there.

const env = oneMaster(1_000);
const key = (resource: string) => `cxkit:locks:{${resource}}`;

function calls(resource: string, from: string, to: string, guard = '0') {
  const keys = [key(resource), `${key(resource)}:waiters`];
  return {
    release: { keys, args: ['1', from, '', resource] },
    acquire: {
      keys: ['cxkit:locks:audit', 'cxkit:locks:marker', ...keys],
      args: [guard, '10000', 'default', '10000', '600000', '0', to, '10000', '7 4 0 defaultHAND', resource],
    },
  };
}

/** Release then acquire as `LockNode.hold` writes them (joined), or one after the other. */
async function run(resource: string, from: string, to: string, joined: boolean, guard = '0') {
  const node = new LockNode('n', env.clients[1]! as never, 0, 0);
  const { release, acquire } = calls(resource, from, to, guard);
  if (joined) node.hold();
  const replies = joined
    ? Promise.all([
        node.run(scripts.release, release.keys, release.args, false),
        node.run(scripts.acquire, acquire.keys, acquire.args, true),
      ])
    : node
        .run(scripts.release, release.keys, release.args, false)
        .then(async (r) => [r, await node.run(scripts.acquire, acquire.keys, acquire.args, true)]);
  return replies;
}

async function scriptCalls(): Promise<Record<string, number>> {
  const stats = parseInfo(await env.clients[1]!.info('commandstats'));
  const n = (name: string) => Number(/calls=(\d+)/.exec(stats[name] ?? '')?.[1] ?? 0);
  return { evalsha: n('cmdstat_evalsha'), eval: n('cmdstat_eval') };
}

/** A record of `token` with a high-water fence far above the node's clock, so fences are predictable. */
async function holdRecord(resource: string, token: string, ttlMs = 10_000): Promise<number> {
  const [seconds] = await env.clients[1]!.time();
  const hw = Number(seconds) * 1_000_000 + 3_600_000_000;
  const now = Date.now();
  await env.clients[1]!.set(
    key(resource),
    `${now + ttlMs} ${hw} ${token} ${hw} ${now} ${now} 10000 7 0 0 default`,
    'PX',
    600_000,
  );
  return hw;
}

/** A record with its time fields masked: "<expires> <hw> <token> <fence> <acquired> <heartbeat> ...". */
const shape = (record: string | null | undefined) =>
  record
    ?.split(' ')
    .map((f, i) => ([0, 4, 5].includes(i) ? 'T' : f))
    .join(' ');

describe('hand-off script', () => {
  it('hands a live lock over in one script call, ending as the release and the acquire in order', async () => {
    const hw = await holdRecord('hs:joined', 'tok-a');
    await holdRecord('hs:apart', 'tok-a');
    await run('hs:warm', 'x', 'y', true); // loads the hand-off script
    await env.clients[1]!.config('RESETSTAT');
    const joined = await run('hs:joined', 'tok-a', 'tok-b', true);
    expect(await scriptCalls()).toEqual({ evalsha: 1, eval: 0 });
    const apart = await run('hs:apart', 'tok-a', 'tok-b', false);
    expect(joined).toEqual([[1], ['', -1, 1, hw + 1, 0]]);
    expect(joined).toEqual(apart);
    const [a, b] = await env.clients[1]!.mget(key('hs:joined'), key('hs:apart'));
    expect(shape(a)).toBe(shape(b));
    expect(a?.split(' ').slice(1, 4)).toEqual([String(hw + 1), 'tok-b', String(hw + 1)]);
    const [ttlA, ttlB] = [
      await env.clients[1]!.pttl(key('hs:joined')),
      await env.clients[1]!.pttl(key('hs:apart')),
    ];
    expect(Math.abs(ttlA - ttlB)).toBeLessThan(1_000);
  });

  it('falls back to the two scripts when the record is another owner’s: the release reports it, the acquire meets the holder', async () => {
    await holdRecord('hs:taken', 'tok-c');
    await env.clients[1]!.config('RESETSTAT');
    const [released, acquired] = (await run('hs:taken', 'tok-a', 'tok-b', true)) as [unknown[], unknown[]];
    expect(released).toEqual([-1]);
    expect(acquired.slice(0, 4)).toEqual(['', -1, 0, 0]);
    expect(acquired[5]).toBe('tok-c');
    // The hand-off call, then the release and the acquire on their own.
    expect((await scriptCalls()).evalsha).toBe(3);
    expect((await env.clients[1]!.get(key('hs:taken')))?.split(' ')[2]).toBe('tok-c');
  });

  it('falls back when the releasing owner’s record expired: nothing to release, the acquire is granted', async () => {
    const hw = await holdRecord('hs:expired', 'tok-a', -5);
    expect(await run('hs:expired', 'tok-a', 'tok-b', true)).toEqual([[0], ['', -1, 1, hw + 1, 0]]);
  });

  it('with the amnesia guard, falls back when the node lost its epoch marker (the acquire writes a new one)', async () => {
    await env.clients[1]!.del('cxkit:locks:marker');
    const hw = await holdRecord('hs:marker', 'tok-a');
    const [released, acquired] = (await run('hs:marker', 'tok-a', 'tok-b', true, '1')) as [
      unknown[],
      unknown[],
    ];
    expect(released).toEqual([1]);
    expect(acquired.slice(1, 4)).toEqual([0, 1, hw + 1]);
    const marker = await env.clients[1]!.get('cxkit:locks:marker');
    expect(marker?.split(' ')[0]).toBe(acquired[0]);
    // With the marker in place, the next hand-off is one call and reports the marker's epoch and age.
    await holdRecord('hs:marker2', 'tok-a');
    await env.clients[1]!.config('RESETSTAT');
    const [, next] = (await run('hs:marker2', 'tok-a', 'tok-b', true, '1')) as [unknown[], unknown[]];
    expect((await scriptCalls()).evalsha).toBe(1);
    expect(next[0]).toBe(acquired[0]);
    expect(next[1]).toBeGreaterThanOrEqual(0);
  });

  it('a release and an acquire of different locks are not joined', async () => {
    await holdRecord('hs:one', 'tok-a');
    await env.clients[1]!.config('RESETSTAT');
    const node = new LockNode('n', env.clients[1]! as never, 0, 0);
    const one = calls('hs:one', 'tok-a', 'unused');
    const two = calls('hs:two', 'unused', 'tok-b');
    node.hold();
    const replies = await Promise.all([
      node.run(scripts.release, one.release.keys, one.release.args, false),
      node.run(scripts.acquire, two.acquire.keys, two.acquire.args, true),
    ]);
    expect(replies[0]).toEqual([1]);
    expect((replies[1] as unknown[])[2]).toBe(1);
    expect((await scriptCalls()).evalsha).toBe(2);
  });
});
