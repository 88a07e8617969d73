import { describe, expect, it } from 'vitest';
import acquireHeadLua from '../src/lua/acquire-head.lua';
import grantLua from '../src/lua/grant.lua';
import { LockNode } from '../src/node.js';
import { scripts } from '../src/scripts.js';
import { oneMaster } from './helpers.js';

// The acquire script grants one lock whose record is absent or released in its head, before the shared
// helpers are built; every other case goes through the loop. Both must write the same record and reply
// the same, so each starting state is run once alone (head) and once as the first lock of a batch of
// two (loop), on two resources in the same state.

const env = oneMaster(1_000);
const key = (resource: string) => `cxkit:locks:{${resource}}`;
const MARKER = 'cxkit:locks:head-marker';

function acquire(resources: string[], guard: string): Promise<unknown> {
  const node = new LockNode('n', env.clients[1]! as never, 0, 0);
  const keys = ['cxkit:locks:audit', MARKER];
  const args: string[] = [guard, '10000', 'default', '10000', '600000', '0'];
  for (const r of resources) {
    keys.push(key(r), `${key(r)}:waiters`);
    args.push(`token-${r}`, '10000', '7 4 0 defaultHEAD', r);
  }
  return node.run(scripts.acquire, keys, args, true);
}

/** A record with its time fields and token masked: "<expires> <hw> <token> <fence> <acquired> <heartbeat> ...". */
/** A record with its times, fences and token masked (the fences are compared on their own, below). */
const shape = (record: string | null) =>
  record
    ?.split(' ')
    .map((f, i) => ([0, 4, 5].includes(i) ? 'T' : [1, 3].includes(i) ? 'F' : i === 2 ? 'token' : f))
    .join(' ');

async function state(resource: string, record: string | undefined) {
  await env.clients[1]!.del(key(resource));
  if (record !== undefined) await env.clients[1]!.set(key(resource), record, 'PX', 600_000);
}

async function both(record: (second: number) => string | undefined, guard: string, marker?: string) {
  const [seconds] = await env.clients[1]!.time();
  const runs: { reply: unknown[]; record: string | null; ttl: number }[] = [];
  for (const [lock, batch] of [
    ['head-a', ['head-a']],
    ['head-b', ['head-b', 'head-c']],
  ] as const) {
    await state(lock, record(Number(seconds)));
    await env.clients[1]!.del(MARKER);
    if (marker !== undefined) await env.clients[1]!.set(MARKER, marker);
    const reply = (await acquire([...batch], guard)) as unknown[];
    runs.push({
      reply,
      record: await env.clients[1]!.get(key(lock)),
      ttl: await env.clients[1]!.pttl(key(lock)),
    });
  }
  const [head, loop] = runs as [(typeof runs)[0], (typeof runs)[0]];
  return { head, loop };
}

describe('acquire: the head grants as the loop does', () => {
  const cases: [string, (second: number) => string | undefined, string, string | undefined][] = [
    ['absent record, guard off', () => undefined, '0', undefined],
    ['absent record, guard on', () => undefined, '1', '1700000000.5 1700000000000'],
    ['released record above the floor', (s) => `0 ${s * 1_000_000 + 3_600_000_000}`, '1', '7.7 1000'],
    ['released record of an earlier second', (s) => `0 ${(s - 5) * 1_000_000 + 42}`, '1', '7.7 1000'],
    ['guard on, no marker yet (the loop creates it)', () => undefined, '1', undefined],
    [
      'expired record of another owner (the loop)',
      (s) => `1 ${s * 1_000_000 + 9} other 9 1 1 10000 7 0 0 default`,
      '0',
      undefined,
    ],
  ];
  for (const [name, record, guard, marker] of cases) {
    it(name, async () => {
      const { head, loop } = await both(record, guard, marker);
      // Epoch id (a new marker's is the TIME it was made at), status, holder length as the loop replies
      // for its first lock; the age within a second.
      const epoch = (id: unknown) =>
        guard === '1' && marker === undefined ? /^\d+\.\d+$/.test(String(id)) : id;
      expect([epoch(head.reply[0]), head.reply[2], head.reply[4]]).toEqual([
        epoch(loop.reply[0]),
        loop.reply[2],
        loop.reply[4],
      ]);
      expect(Math.abs(Number(head.reply[1]) - Number(loop.reply[1]))).toBeLessThan(1_000);
      expect(head.reply).toHaveLength(5);
      expect(shape(head.record)).toBe(shape(loop.record));
      // The fence: equal, or (a fresh record) one second's floor apart when the two calls straddled a second.
      const [fh, fl] = [Number(head.reply[3]), Number(loop.reply[3])];
      expect(fh === fl || (fh % 1_000_000 === 0 && Math.abs(fh - fl) === 1_000_000)).toBe(true);
      expect(head.record?.split(' ')[1]).toBe(String(fh));
      expect(head.record?.split(' ')[3]).toBe(String(fh));
      expect(loop.record?.split(' ')[1]).toBe(String(fl));
      expect(loop.record?.split(' ')[3]).toBe(String(fl));
      expect(Math.abs(head.ttl - loop.ttl)).toBeLessThan(1_000);
      expect(head.ttl).toBeGreaterThan(600_000);
    });
  }
});

describe('acquire: the head alone', () => {
  // grant.lua and the head, with the loop replaced by `return false`: which states the head grants.
  const headOnly = `${grantLua}\n${acquireHeadLua}\nreturn false`;
  const granted = async (
    record: string | undefined,
    guard: string,
    marker: string | undefined,
    locks = 1,
  ) => {
    await state('head-only', record);
    await env.clients[1]!.del(MARKER);
    if (marker !== undefined) await env.clients[1]!.set(MARKER, marker);
    const keys = ['cxkit:locks:audit', MARKER];
    const args = [guard, '10000', 'default', '10000', '600000', '0'];
    for (let i = 0; i < locks; i++) {
      keys.push(key(`head-only${i || ''}`), `${key(`head-only${i || ''}`)}:waiters`);
      args.push('token-h', '10000', '7 4 0 defaultHEAD', 'head-only');
    }
    return (await env.clients[1]!.eval(headOnly, keys.length, ...keys, ...args)) !== null;
  };

  it('grants one lock whose record is absent or released, with a marker or the guard off', async () => {
    expect(await granted(undefined, '0', undefined)).toBe(true);
    expect(await granted(undefined, '1', '7.7 1000')).toBe(true);
    expect(await granted('0 1700000000000005', '1', '7.7 1000')).toBe(true);
  });

  it('leaves every other state to the loop', async () => {
    expect(await granted(undefined, '1', undefined)).toBe(false);
    expect(await granted(undefined, '1', 'damaged')).toBe(false);
    expect(await granted('1 5 other 5 1 1 10000 7 0 0 default', '0', undefined)).toBe(false);
    expect(await granted(`${Date.now() + 60_000} 5 other 5 1 1 10000 7 0 0 default`, '0', undefined)).toBe(
      false,
    );
    expect(await granted('a permit of another layout', '0', undefined)).toBe(false);
    expect(await granted(undefined, '0', undefined, 2)).toBe(false);
  });
});
