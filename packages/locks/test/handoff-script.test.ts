import { parseInfo } from '@cxkit/testkit';
import { describe, expect, it } from 'vitest';
import { LockNode } from '../src/node.js';
import { scripts } from '../src/scripts.js';
import { oneMaster } from './helpers.js';

// A release followed in the same write by an acquire of the same lock runs as one hand-off script. It
// must end exactly as the two scripts in order would (record, replies), whatever the record holds: the
// plain case (the releasing owner's live record) by its own short path, any other by running both.
// Also the batch scripts that read every record in one MGET: a lock listed twice must still see the
// first entry's write.

const env = oneMaster(1_000);
const key = (resource: string) => `cxkit:locks:{${resource}}`;

function calls(resource: string, from: string, to: string, guard = '0') {
  const keys = [key(resource), `${key(resource)}:waiters`];
  return {
    release: { keys, args: ['1', '600000', from, '', resource, ''] },
    acquire: {
      keys: ['cxkit:locks:audit', 'cxkit:locks:marker', ...keys],
      args: [guard, '10000', 'default', '10000', '600000', '0', to, '10000', '7 4 0 defaultHAND', resource],
    },
  };
}

const settled = (p: Promise<unknown>) =>
  p.then(
    (value) => value,
    (err: Error) => `error: ${err.message}`,
  );

/** Release then acquire as `LockNode.hold` writes them (joined), or one after the other; errors as text. */
async function run(resource: string, from: string, to: string, joined: boolean, guard = '0') {
  const node = new LockNode('n', env.clients[1]! as never, 0, 0);
  const { release, acquire } = calls(resource, from, to, guard);
  if (!joined) {
    const released = await settled(node.run(scripts.release, release.keys, release.args, false));
    return [released, await settled(node.run(scripts.acquire, acquire.keys, acquire.args, true))];
  }
  node.hold();
  return Promise.all([
    settled(node.run(scripts.release, release.keys, release.args, false)),
    settled(node.run(scripts.acquire, acquire.keys, acquire.args, true)),
  ]);
}

async function scriptCalls(): Promise<Record<string, number>> {
  const stats = parseInfo(await env.clients[1]!.info('commandstats'));
  const n = (name: string) => Number(/calls=(\d+)/.exec(stats[name] ?? '')?.[1] ?? 0);
  return { evalsha: n('cmdstat_evalsha'), eval: n('cmdstat_eval') };
}

let baseSecond: number | undefined;

/**
 * A record of `token` whose high-water fence is `ahead` above the node's second x 10^6 (far above by
 * default, so fences are predictable; negative: a grant of an earlier second).
 */
async function holdRecord(
  resource: string,
  token: string,
  ttlMs = 10_000,
  ahead = 3_600_000_000,
): Promise<number> {
  // One base second per file: both records of a side-by-side pair get the same high-water fence even
  // when the node's second ticks between writing them.
  baseSecond ??= Number((await env.clients[1]!.time())[0]);
  const hw = baseSecond * 1_000_000 + ahead;
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

/** The same record under two names: the hand-off on one, the two scripts on the other; both outcomes. */
async function sideBySide(name: string, prepare: (resource: string) => Promise<unknown>, guard = '0') {
  await prepare(`${name}:joined`);
  await prepare(`${name}:apart`);
  await env.clients[1]!.config('RESETSTAT');
  const joined = await run(`${name}:joined`, 'tok-a', 'tok-b', true, guard);
  const calls = await scriptCalls();
  const apart = await run(`${name}:apart`, 'tok-a', 'tok-b', false, guard);
  const [a, b] = await env.clients[1]!.mget(key(`${name}:joined`), key(`${name}:apart`));
  expect(shape(a)).toBe(shape(b));
  const [ttlA, ttlB] = [
    await env.clients[1]!.pttl(key(`${name}:joined`)),
    await env.clients[1]!.pttl(key(`${name}:apart`)),
  ];
  expect(Math.abs(ttlA - ttlB)).toBeLessThan(1_000);
  return { joined, apart, calls, record: a };
}

/** An acquire reply with the epoch age and a holder's times masked (they move between the two runs). */
const reply = (r: unknown) =>
  Array.isArray(r) && Array.isArray(r[1])
    ? [r[0], [r[1][0], 'age', ...r[1].slice(2, 6), ...r[1].slice(6).map(() => 'H')]]
    : r;

describe('hand-off script', () => {
  it('hands a live lock over in one script call, ending as the release and the acquire in order', async () => {
    await run('hs:warm', 'x', 'y', true); // loads the hand-off script
    const hw = await holdRecord('hs:plain:joined', 'tok-a');
    const { joined, apart, calls, record } = await sideBySide('hs:plain', (r) => holdRecord(r, 'tok-a'));
    expect(calls).toEqual({ evalsha: 1, eval: 0 });
    expect(joined).toEqual([[1], ['', -1, 1, hw + 1, 0]]);
    expect(joined).toEqual(apart);
    expect(record?.split(' ').slice(1, 4)).toEqual([String(hw + 1), 'tok-b', String(hw + 1)]);
  });

  it("a high-water fence of an earlier second: the grant takes the node's second x 10^6, as the acquire script does", async () => {
    const { joined, apart } = await sideBySide('hs:floor', (r) => holdRecord(r, 'tok-a', 10_000, -5_000_000));
    const [seconds] = await env.clients[1]!.time();
    const fence = (joined[1] as number[])[3]!;
    expect(fence % 1_000_000).toBe(0);
    expect(fence).toBeLessThanOrEqual(Number(seconds) * 1_000_000);
    expect(joined).toEqual(apart);
  });

  it('with the amnesia guard: the epoch and its age as the acquire script reports them', async () => {
    await env.clients[1]!.set('cxkit:locks:marker', '1796000000.5 1796000000000');
    const { joined, apart, calls } = await sideBySide('hs:guard', (r) => holdRecord(r, 'tok-a'), '1');
    expect(calls.evalsha).toBe(1);
    expect((joined[1] as unknown[])[0]).toBe('1796000000.5');
    expect((joined[1] as number[])[1]).toBeGreaterThan(0);
    expect(Math.abs((joined[1] as number[])[1]! - (apart[1] as number[])[1]!)).toBeLessThan(1_000);
    expect(reply(joined)).toEqual(reply(apart));
  });

  it("the record is another owner's: one call, the release reports it and the acquire meets that holder", async () => {
    const { joined, apart, calls, record } = await sideBySide('hs:taken', (r) => holdRecord(r, 'tok-c'));
    expect(calls.evalsha).toBe(1);
    expect(joined[0]).toEqual([-1]);
    expect((joined[1] as unknown[]).slice(0, 4)).toEqual(['', -1, 0, 0]);
    expect((joined[1] as unknown[])[5]).toBe('tok-c');
    expect(reply(joined)).toEqual(reply(apart));
    expect(record?.split(' ')[2]).toBe('tok-c');
  });

  it("the releasing owner's record expired: one call, nothing released, the acquire granted", async () => {
    const hw = await holdRecord('hs:expired:joined', 'tok-a', -5);
    const { joined, apart, calls } = await sideBySide('hs:expired', (r) => holdRecord(r, 'tok-a', -5));
    expect(calls.evalsha).toBe(1);
    expect(joined).toEqual([[0], ['', -1, 1, hw + 1, 0]]);
    expect(joined).toEqual(apart);
  });

  it('with the amnesia guard and no epoch marker (a node restarted empty): the acquire writes a new one', async () => {
    const fresh = async (r: string) => {
      await env.clients[1]!.del('cxkit:locks:marker');
      await holdRecord(r, 'tok-a');
    };
    const { joined, apart, calls } = await sideBySide('hs:marker', fresh, '1');
    expect(calls.evalsha).toBe(1);
    expect(joined[0]).toEqual([1]);
    expect((joined[1] as unknown[]).slice(1, 3)).toEqual([0, 1]);
    expect(reply(joined)).toEqual(reply(apart));
  });

  it('a damaged epoch marker fails the acquire alone; the release still counts, as with the two scripts', async () => {
    const damaged = async (r: string) => {
      await env.clients[1]!.set('cxkit:locks:marker', 'garbage');
      await holdRecord(r, 'tok-a');
    };
    const { joined, apart, record } = await sideBySide('hs:damaged', damaged, '1');
    expect(joined[0]).toEqual([1]);
    expect(joined[1]).toMatch(/^error: /);
    expect(apart[1]).toMatch(/^error: /);
    expect(record).toMatch(/^0 \d+$/);
    await env.clients[1]!.del('cxkit:locks:marker');
  });

  it('a key of another type: the release reads it as absent, the acquire reports another layout and the key is left as it is, as with the two scripts', async () => {
    const { joined, apart } = await sideBySide('hs:type', async (r) => {
      await env.clients[1]!.del(key(r));
      await env.clients[1]!.sadd(key(r), 'x');
    });
    // Acquire reply: epoch '' and age -1 (guard off), then status -2 (another layout), fence 0, no holder.
    expect(joined).toEqual([[0], ['', -1, -2, 0, 0]]);
    expect(apart).toEqual(joined);
    for (const r of ['hs:type:joined', 'hs:type:apart'])
      expect(await env.clients[1]!.smembers(key(r))).toEqual(['x']);
  });

  it('a call written after the hand-off never runs before its acquire (the expired case runs both parts in the call)', async () => {
    await holdRecord('hs:order', 'tok-a', -5);
    const node = new LockNode('n', env.clients[1]! as never, 0, 0);
    const { release, acquire } = calls('hs:order', 'tok-a', 'tok-w');
    // The node is busy: the hand-off call waits on the wire while the waiter's own release is written.
    await env.clients[0]!.call('CLIENT', 'PAUSE', '100', 'WRITE');
    node.hold();
    const pair = Promise.all([
      node.run(scripts.release, release.keys, release.args, false),
      node.run(scripts.acquire, acquire.keys, acquire.args, true),
    ]);
    await new Promise((r) => setTimeout(r, 20));
    const own = calls('hs:order', 'tok-w', 'unused').release;
    const later = node.run(scripts.release, own.keys, own.args, false);
    expect(await pair).toEqual([[0], expect.arrayContaining([1])]);
    expect(await later).toEqual([1]);
    // The waiter released what it was granted: no live record is left behind.
    expect(await env.clients[1]!.get(key('hs:order'))).toMatch(/^0 \d+$/);
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

describe('a release batch', () => {
  it('that lists one lock twice answers as two releases in order (the second sees the first one’s write)', async () => {
    const fence = await holdRecord('release:twice', 'owner-a');
    const keys = [key('release:twice'), `${key('release:twice')}:waiters`];
    const reply = await env.clients[1]!.eval(
      scripts.release.source,
      4,
      ...keys,
      ...keys,
      '1',
      '600000',
      ...['owner-a', '', 'release:twice', String(fence)],
      ...['owner-b', '', 'release:twice', ''],
    );
    // Released by owner-a; owner-b then finds it released (0), not owner-a's live record (-1).
    expect(reply).toEqual([1, 0]);
    expect(await env.clients[1]!.get(key('release:twice'))).toBe(`0 ${fence}`);
  });
});

describe('a heartbeat batch', () => {
  it('that lists one lock twice answers as two heartbeats in order (the second sees the first one’s write)', async () => {
    const fence = await holdRecord('heartbeat:twice', 'owner-x', -1_000); // expired a second ago
    const lock = key('heartbeat:twice');
    const entry = (token: string) => [token, '10000', String(fence), 'default', 'HB', ''];
    const reply = await env.clients[1]!.eval(
      scripts.heartbeat.source,
      3,
      'cxkit:locks:marker',
      lock,
      lock,
      '0',
      '600000',
      '10000',
      ...entry('owner-a'),
      ...entry('owner-b'),
    );
    // owner-a re-claims the expired record; owner-b then meets owner-a's live record (0), not the
    // expired one it would re-claim over owner-a.
    expect((reply as unknown[]).slice(2)).toEqual([2, 0]);
    expect((await env.clients[1]!.get(lock))!.split(' ')[2]).toBe('owner-a');
  });
});

describe('a key of another type at a lock record', () => {
  const acquireArgs = (guard: string, ...locks: string[]) => [
    guard,
    '10000',
    'default',
    '10000',
    '600000',
    '0',
    ...locks.flatMap((r) => [`tok-${r}`, '10000', '7 4 0 defaultTYPE', r]),
  ];
  const keysOf = (...locks: string[]) => locks.flatMap((r) => [key(r), `${key(r)}:waiters`]);
  const aSet = async (r: string) => {
    await env.clients[1]!.del(key(r));
    await env.clients[1]!.sadd(key(r), 'x');
  };

  it('is reported as another layout by a batched acquire and left as it is, while the batch goes on', async () => {
    await aSet('type:second');
    await env.clients[1]!.del(key('type:first'));
    const locks = ['type:first', 'type:second'];
    const reply = (await env.clients[1]!.eval(
      scripts.acquire.source,
      6,
      'cxkit:locks:audit',
      'cxkit:locks:marker',
      ...keysOf(...locks),
      ...acquireArgs('0', ...locks),
    )) as unknown[];
    expect(reply[2]).toBe(1); // the first lock granted
    expect(reply.slice(5)).toEqual([-2, 0, 0]);
    expect(await env.clients[1]!.smembers(key('type:second'))).toEqual(['x']);
  });

  it('is not overwritten by a single acquire with the amnesia guard on, nor by a heartbeat re-claim', async () => {
    await aSet('type:single');
    const acquired = (await env.clients[1]!.eval(
      scripts.acquire.source,
      4,
      'cxkit:locks:audit',
      'cxkit:locks:marker',
      ...keysOf('type:single'),
      ...acquireArgs('1', 'type:single'),
    )) as unknown[];
    expect(acquired.slice(2)).toEqual([-2, 0, 0]);
    const beat = (await env.clients[1]!.eval(
      scripts.heartbeat.source,
      2,
      'cxkit:locks:marker',
      key('type:single'),
      '0',
      '600000',
      '10000',
      ...['tok-type:single', '10000', '1', 'default', 'TYPE', ''],
    )) as unknown[];
    expect(beat.slice(2)).toEqual([0]);
    expect(await env.clients[1]!.smembers(key('type:single'))).toEqual(['x']);
    await env.clients[1]!.del('cxkit:locks:marker');
  });
});
