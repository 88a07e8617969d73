import type { Socket } from 'node:net';
import { waitUntil } from '@cxkit/testkit';
import type { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { type LockEvents, LockManager } from '../src/index.js';
import type { HeldLock } from '../src/lock.js';
import { scripts } from '../src/scripts.js';
import { client, fiveMasters, oneMaster, quit, sleep } from './helpers.js';

// A release with a waiter of the same manager hands the lock over: the waiter's attempt is written
// right behind the release, in one pipeline per node, and the release publishes nothing, unless a waiter
// of another manager has announced itself on the release channel.

/** Polls only every 8-10 s: a hand-off well before that came from the release itself. */
const SLOW_POLL = { minDelayMs: 8_000, maxDelayMs: 10_000 };

const env = oneMaster(1_000);
const five = fiveMasters(
  { maxTtlMs: 3_000, defaultTtlMs: 2_000, heartbeatIntervalMs: 200, staleAfterMs: 1_500 },
  { warm: true },
);
const extra: Redis[] = [];
afterAll(() => quit(extra));

/** Commands per socket write on `redis`'s connection, from now on (it must be connected). */
function writes(redis: Redis): number[] {
  const sizes: number[] = [];
  type Chunk = { chunk: Buffer | string };
  type Callback = (err?: Error | null) => void;
  const socket = (redis as unknown as { stream: Socket }).stream as Socket & {
    _write(chunk: Buffer | string, encoding: string, cb: Callback): void;
    _writev(chunks: Chunk[], cb: Callback): void;
  };
  // Every command starts with a RESP array header followed by a bulk string. Not counted: a waiter's
  // announcement (PUBLISH, repeated every second while it waits), and the fence raise that follows a
  // quorum grant whose nodes read TIME on either side of a second (rare; a call of its own).
  const count = (data: string, pattern: RegExp) => data.match(pattern)?.length ?? 0;
  const raise = new RegExp(`\\$40\r\n${scripts.raise.sha}\r\n`, 'g');
  const commands = (data: string) =>
    count(data, /\*\d+\r\n\$/g) - count(data, /\$7\r\npublish\r\n/gi) - count(data, raise);
  const record = (n: number) => n > 0 && sizes.push(n);
  const write = socket._write.bind(socket);
  const writev = socket._writev.bind(socket);
  socket._write = (chunk, encoding, cb) => {
    record(commands(String(chunk)));
    write(chunk, encoding, cb);
  };
  socket._writev = (chunks, cb) => {
    record(commands(chunks.map((c) => String(c.chunk)).join('')));
    writev(chunks, cb);
  };
  return sizes;
}

function extraClient(url: string): Redis {
  const c = client(url);
  extra.push(c);
  return c;
}

/** Messages published on `channel` of the node at `url`, from now on. */
async function listen(url: string, channel: string): Promise<string[]> {
  const sub = client(url);
  extra.push(sub);
  const got: string[] = [];
  sub.on('message', (_channel, message: string) => got.push(message));
  await sub.subscribe(channel);
  return got;
}

/**
 * 3 callers of `local` take turns on `resource` while one caller of `remote` waits again and again
 * (until both made the progress the tests ask for, at most 5 s): how many sections `local` ran, how
 * often the remote caller was woken, how often it won.
 */
async function contend(local: LockManager, remote: LockManager, resource: string) {
  let running = true;
  let sections = 0;
  const workers = Array.from({ length: 3 }, async () => {
    while (running) {
      await local.withLock(resource, () => sleep(2).then(() => sections++), { waitMs: 20_000 });
    }
  });
  await sleep(50);
  let woken = 0;
  let won = 0;
  const off = remote.on('contended', () => woken++);
  // Until both sides made progress (well within 1.5 s on an idle machine), or 5 s on a loaded one.
  const until = performance.now() + 5_000;
  while (performance.now() < until && !(sections > 10 && woken + won > 8)) {
    const lock = await remote
      .acquire(resource, { waitMs: Math.max(1, Math.ceil(until - performance.now())) })
      .catch(() => undefined);
    if (lock) {
      won++;
      await lock.release();
    }
  }
  const meanwhile = sections;
  running = false;
  await Promise.all(workers);
  off();
  return { sections: meanwhile, woken, won };
}

async function handOver(m: LockManager, resource: string, connections: Redis[]) {
  const attempts: number[] = [];
  const off = m.on('acquired', (e: LockEvents['acquired']) => attempts.push(e.attempts));
  const holder = await m.acquire(resource, { ttlMs: 2_000, heartbeat: false });
  // Two conflicts (the second after subscribing), then the waiter waits for a release: its waker is
  // registered synchronously right after the second `contended` event.
  const parked = new Promise<void>((resolve) => {
    const stop = m.on('contended', (e) => {
      if (e.resource !== resource || e.attempt !== 2) return;
      stop();
      resolve();
    });
  });
  const waiting = m.acquire(resource, { waitMs: 20_000 });
  await parked;
  // A quorum's holder is written to the nodes its wave left out 100 ms after its grant: its release
  // then goes to every node.
  await waitUntil(
    'holder on every node',
    async () => (await m.inspect(resource)).nodes.every((n) => n.holder?.token === holder.token),
    5_000,
    10,
  );
  const sizes = connections.map(writes);
  const releasedAt = performance.now();
  expect(await holder.release()).toEqual({ released: true });
  const next = await waiting;
  const ms = performance.now() - releasedAt;
  off();
  return { holder, next, ms, sizes, attempts };
}

describe('hand-off to a waiter of the same manager', () => {
  it('one master: the release and the waiter attempt go out as one hand-off call, and nothing is published', async () => {
    const connection = client(env.redis.urls[0]!);
    extra.push(connection);
    const m = new LockManager({ nodes: connection, retry: SLOW_POLL });
    await (await m.acquire('ho:one:first', { heartbeat: false })).release();
    // The first hand-off loads the hand-off script (NOSCRIPT, then EVAL).
    const warm = await handOver(m, 'ho:one:warm', [connection]);
    expect(warm.sizes[0]).toEqual([1, 1]);
    await warm.next.release();
    const published = await listen(env.redis.urls[0]!, 'cxkit:locks:released:ho:one');
    const { holder, next, ms, sizes, attempts } = await handOver(m, 'ho:one', [connection]);
    expect(ms).toBeLessThan(2_000);
    expect(attempts).toEqual([1, 3]);
    expect(next.fence).toBeGreaterThan(holder.fence);
    expect(sizes[0]).toEqual([1]);
    await sleep(100);
    expect(published.filter((m) => !m.startsWith('cxkit:waiting:'))).toEqual([]);
    await next.release();
    await m.close();
  });

  it('scripts flushed (as after a restart): the hand-off script is loaded again and hands the lock over at once', async () => {
    const connection = client(env.redis.urls[0]!);
    extra.push(connection);
    const m = new LockManager({ nodes: connection, retry: SLOW_POLL });
    await (await m.acquire('ho:reload:first', { heartbeat: false })).release();
    await env.clients[1]!.script('FLUSH');
    const { holder, next, ms, sizes, attempts } = await handOver(m, 'ho:reload', [connection]);
    expect(ms).toBeLessThan(2_000);
    expect(attempts).toEqual([1, 3]);
    expect(next.fence).toBeGreaterThan(holder.fence);
    expect(sizes[0]).toEqual([1, 1]);
    await next.release();
    await m.close();
  });

  it('attempts that overtake their releases (scripts flushed, two locks handed off in one tick) look again within milliseconds', async () => {
    const connection = client(env.redis.urls[0]!);
    extra.push(connection);
    const m = new LockManager({ nodes: connection, retry: SLOW_POLL });
    await (await m.acquire('ho:flush:first', { heartbeat: false })).release();
    const holders = [
      await m.acquire('ho:flush:1', { ttlMs: 2_000, heartbeat: false }),
      await m.acquire('ho:flush:2', { ttlMs: 2_000, heartbeat: false }),
    ];
    const attempts: number[] = [];
    m.on('acquired', (e) => attempts.push(e.attempts));
    const waiting = [
      m.acquire('ho:flush:1', { waitMs: 20_000 }),
      m.acquire('ho:flush:2', { waitMs: 20_000 }),
    ];
    await sleep(300);
    // As after a restart: the releases' EVALSHA fails with NOSCRIPT and runs again after the attempts
    // (one acquire call for both, whose script another acquisition has loaded again); two releases and
    // one call of two acquires are not a hand-off pair, so they go out as they are.
    await env.clients[1]!.script('FLUSH');
    const other = await m.acquire('ho:flush:other', { heartbeat: false });
    const releasedAt = performance.now();
    expect(await Promise.all(holders.map((h) => h.release()))).toEqual([
      { released: true },
      { released: true },
    ]);
    const next = await Promise.all(waiting);
    expect(performance.now() - releasedAt).toBeLessThan(2_000);
    expect(attempts).toEqual([1, 4, 4]); // `other`, then each waiter at its fourth attempt
    await Promise.all([...next, other].map((l) => l.release()));
    await m.close();
  });

  it('a quorum of 5: one write per node asked, the waiter granted on the same quorum', async () => {
    const m = five.manager('us-east-1', { retry: SLOW_POLL });
    await (await m.acquire('ho:q:first', { heartbeat: false })).release();
    const connections = five.clients.slice(-5);
    // Loaded on every node: a node that lagged lately is left out of first waves, so the hand-off's
    // wave may include one the warm-up did not ask (NOSCRIPT, then EVAL, would be a second write).
    await Promise.all(connections.map((c) => c.script('LOAD', scripts.handoff.source)));
    await (await handOver(m, 'ho:q:warm', connections)).next.release();
    const published = await Promise.all(five.nodes().map((n) => listen(n.url, 'cxkit:locks:released:ho:q')));
    const { holder, next, ms, sizes, attempts } = await handOver(m, 'ho:q', connections);
    expect(ms).toBeLessThan(2_000);
    expect(attempts).toEqual([1, 3]);
    expect(next.fence).toBeGreaterThan(holder.fence);
    // The release goes to all five (the holder was spread); on the waiter's wave it shares its write
    // with the attempt as one hand-off call, so every node's first write is one command.
    expect(sizes.map((s) => s[0])).toEqual([1, 1, 1, 1, 1]);
    // A wave that lagged past its hedge (a loaded machine) asked the other two later, one attempt each.
    const asked = (next as HeldLock).nodes?.size ?? 5;
    expect(sizes.filter((s) => s.length === 1)).toHaveLength(asked === 5 ? 3 : 5);
    expect(sizes.filter((s) => s.length === 2 && s[1] === 1)).toHaveLength(asked === 5 ? 2 : 0);
    await sleep(100);
    expect(published.flat().filter((m) => !m.startsWith('cxkit:waiting:'))).toEqual([]);
    await next.release();
  });

  it('while a waiter of another manager waits, releases publish again, so that waiter is woken by each', async () => {
    const url = env.redis.urls[0]!;
    const local = new LockManager({ nodes: extraClient(url) });
    const remote = new LockManager({ nodes: extraClient(url), retry: SLOW_POLL });
    const { sections, woken, won } = await contend(local, remote, 'ho:others');
    // Polling alone (every 8-10 s) gives up to 5 s of waiting 2-3 attempts; released locks wake it for
    // many more (hundreds a second on an idle machine).
    // Whether it wins those races is not promised (no fairness, as with Redlock).
    expect(sections).toBeGreaterThan(10);
    expect(woken + won).toBeGreaterThan(8);
    await Promise.all([local.close(), remote.close()]);
  });

  it('a quorum of 5: the other manager is heard, and its waiter woken by the releases', async () => {
    const local = five.manager('us-east-1');
    const remote = five.manager('eu-west-1', { retry: SLOW_POLL });
    for (const m of [local, remote]) await (await m.acquire('ho:q5:first', { heartbeat: false })).release();
    const { sections, woken, won } = await contend(local, remote, 'ho:q5');
    expect(sections).toBeGreaterThan(10);
    expect(woken + won).toBeGreaterThan(8);
  });

  it('a quorum of 5 with its first node paused: the other manager is still heard, its waiter woken', async () => {
    const local = five.manager('us-east-1');
    const remote = five.manager('eu-west-1', { retry: SLOW_POLL });
    for (const m of [local, remote]) await (await m.acquire('ho:q0:first', { heartbeat: false })).release();
    const first = five.nodes()[0]!;
    await first.pause();
    try {
      // Announcements reach the holder's manager on the other nodes.
      const { sections, woken, won } = await contend(local, remote, 'ho:q0');
      expect(sections).toBeGreaterThan(10);
      expect(woken + won).toBeGreaterThan(8);
    } finally {
      await first.resume();
    }
  });
});

describe('a waiter on a channel its manager already hears', () => {
  const manager = () => new LockManager({ nodes: extraClient(env.redis.urls[0]!), retry: SLOW_POLL });
  /** The attempt numbers of every failed attempt on `m` from now on. */
  const conflicts = (m: LockManager) => {
    const seen: number[] = [];
    m.on('contended', (e) => seen.push(e.attempt));
    return seen;
  };

  it('a caller behind one that already waits queues without an attempt and is handed the lock in turn', async () => {
    const m = manager();
    const holder = await m.acquire('hear:queue', { ttlMs: 5_000, heartbeat: false });
    const first = m.acquire('hear:queue', { waitMs: 20_000 });
    await sleep(300);
    const seen = conflicts(m);
    const order: string[] = [];
    const second = m.acquire('hear:queue', { waitMs: 20_000 }).then((l) => {
      order.push('second');
      return l;
    });
    await sleep(300);
    expect(seen).toEqual([]);
    const start = performance.now();
    await holder.release();
    const one = await first;
    order.push('first');
    await sleep(200);
    // The second caller still waits: the first holds the lock, and it was behind the first.
    expect(order).toEqual(['first']);
    await one.release();
    await (await second).release();
    expect(order).toEqual(['first', 'second']);
    // Both hand-offs came from the releases, not from the 8-10 s poll.
    expect(performance.now() - start).toBeLessThan(2_000);
    await m.close();
  });

  it('on a channel still subscribed but with nobody waiting, fails one attempt, not two, before it waits', async () => {
    const m = manager();
    const holder = await m.acquire('hear:one', { ttlMs: 5_000, heartbeat: false });
    const first = m.acquire('hear:one', { waitMs: 20_000 });
    await sleep(300);
    await holder.release();
    // The woken waiter left; the channel lingers subscribed.
    const again = await first;
    const seen = conflicts(m);
    const second = m.acquire('hear:one', { waitMs: 20_000 });
    await sleep(300);
    expect(seen).toEqual([1]);
    const start = performance.now();
    await again.release();
    await (await second).release();
    expect(performance.now() - start).toBeLessThan(2_000);
    await m.close();
  });

  it('a release heard while its attempt is in flight sends it straight back to the node', async () => {
    const m = manager();
    const other = manager();
    // A waiter that was woken and left: the channel stays subscribed for a while.
    const gone = await other.acquire('hear:race', { ttlMs: 5_000, heartbeat: false });
    const early = m.acquire('hear:race', { waitMs: 20_000 });
    await sleep(300);
    await gone.release();
    await (await early).release();
    const holder = await other.acquire('hear:race', { ttlMs: 5_000, heartbeat: false });
    const seen = conflicts(m);
    // A release message sent just before the attempt is written (the attempt waits for the next tick):
    // the node runs it first, and this manager hears it before the attempt's reply (a conflict).
    const waiting = m.acquire('hear:race', { waitMs: 20_000 });
    await env.clients[1]!.publish('cxkit:locks:released:hear:race', 'hear:race');
    await sleep(500);
    // The second attempt came from the message heard before the wait began, not from the 8-10 s poll.
    expect(seen).toEqual([1, 2]);
    await holder.release();
    await (await waiting).release();
    await m.close();
    await other.close();
  });
});
