import { waitUntil } from '@cxkit/testkit';
import type { Redis } from 'ioredis';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { ScriptClient } from '../src/client.js';
import { type Lock, LockError, LockManager, type LockManagerOptions } from '../src/index.js';
import { ReleaseNotifier } from '../src/notifier.js';
import { scripts } from '../src/scripts.js';
import { client, oneMaster, quit, sleep } from './helpers.js';

// Edges of waiting: a caller never queues behind others on a lock that is free, and nothing is granted
// by (or to a caller of) a manager that closed or a caller that gave up.

/** Polls only every 8-10 s: a grant well before that came from an attempt or a wake-up. */
const SLOW_POLL = { minDelayMs: 8_000, maxDelayMs: 10_000 };

const env = oneMaster(1_000);
const extra: Redis[] = [];
const managers: LockManager[] = [];
afterAll(async () => {
  await Promise.all(managers.map((m) => m.close()));
  await quit(extra);
});

function manager(options: Partial<LockManagerOptions> = {}): LockManager {
  const c = client(env.redis.urls[0]!);
  extra.push(c);
  const m = new LockManager({ nodes: c, retry: SLOW_POLL, ...options });
  managers.push(m);
  return m;
}

/** Runs `then` right after the next script call naming `key` is written to `c`, before its reply. */
function afterNextCall(c: Redis, key: string, then: () => void): void {
  const evalsha = c.evalsha.bind(c);
  c.evalsha = ((...args: Parameters<typeof evalsha>) => {
    const sent = evalsha(...args);
    if (args.some((arg) => typeof arg === 'string' && arg.includes(key))) {
      c.evalsha = evalsha;
      then();
    }
    return sent;
  }) as typeof c.evalsha;
}

const settle = <T>(p: Promise<T>) =>
  p.then(
    (value) => value,
    (err: unknown) => err as Error,
  );

describe('a caller behind callers that already wait', () => {
  it('attempts at once when the lock it waits for expired (its manager does not hold it)', async () => {
    const m = manager();
    const other = manager();
    await other.acquire('edge:expired', { ttlMs: 300, heartbeat: false }); // never released
    const first = m.acquire('edge:expired', { waitMs: 20_000 });
    await sleep(600);
    expect((await other.inspect('edge:expired')).holder).toBeUndefined();
    const start = performance.now();
    const second = await m.acquire('edge:expired', { waitMs: 20_000 });
    expect(performance.now() - start).toBeLessThan(1_000);
    await second.release();
    await (await first).release();
  });

  it('is not refused by maxWaiters when the lock is free', async () => {
    const m = manager({ maxWaiters: 1 });
    const other = manager();
    await other.acquire('edge:limit', { ttlMs: 300, heartbeat: false });
    const first = m.acquire('edge:limit', { waitMs: 20_000 });
    await sleep(600);
    const second = await m.acquire('edge:limit', { waitMs: 20_000 });
    expect(second.fence).toBeGreaterThan(0);
    await second.release();
    await (await first).release();
  });

  it('of a semaphore attempts at once when permits expired', async () => {
    const m = manager();
    const other = manager();
    const theirs = other.semaphore('edge:sem', { limit: 2 });
    await theirs.acquire({ ttlMs: 300, heartbeat: false });
    await theirs.acquire({ ttlMs: 300, heartbeat: false });
    const s = m.semaphore('edge:sem', { limit: 2 });
    const first = s.acquire({ waitMs: 20_000 });
    await sleep(600);
    const start = performance.now();
    const second = await s.acquire({ waitMs: 20_000 });
    expect(performance.now() - start).toBeLessThan(1_000);
    await second.release();
    await (await first).release();
  });
});

describe('a waiter with a short TTL', () => {
  it('is woken by the release of a longer lock although it polls less often than its own TTL', async () => {
    const m = manager();
    const other = manager();
    const holder = await other.acquire('edge:short', { ttlMs: 10_000, heartbeat: false });
    const waiting = m.acquire('edge:short', { waitMs: 20_000, ttlMs: 300, heartbeat: false });
    await sleep(800); // past the waiter's own TTL; its next poll is 4-10 s away
    const start = performance.now();
    expect(await holder.release()).toEqual({ released: true });
    await (await waiting).release();
    expect(performance.now() - start).toBeLessThan(2_000);
  });
});

describe('a manager that closes, a caller that gives up', () => {
  it('close() hands no lock to a waiter of its own, and leaves no record behind', async () => {
    const m = manager({ heartbeatIntervalMs: 100 });
    const watcher = manager();
    await m.acquire('edge:close', { ttlMs: 1_000 });
    const waiting = settle(m.acquire('edge:close', { waitMs: 20_000, ttlMs: 1_000 }));
    await sleep(300);
    await m.close();
    const got = await waiting;
    expect(got).toBeInstanceOf(LockError);
    expect((got as LockError).code).toBe('LOCK_MANAGER_CLOSED');
    await sleep(1_500); // past the TTL: only a heartbeat could keep a record alive
    expect((await watcher.inspect('edge:close')).holder).toBeUndefined();
  });

  it('close() wakes a caller queued behind another without an attempt of its own', async () => {
    const m = manager();
    const held = await m.acquire('edge:queued', { heartbeat: false });
    const first = settle(m.acquire('edge:queued', { waitMs: 20_000, heartbeat: false }));
    await sleep(300);
    // The lock is held here and a caller of this manager already waits: this one queues behind it.
    const second = settle(m.acquire('edge:queued', { waitMs: 20_000, heartbeat: false }));
    await sleep(100);
    const calls = async () =>
      Number(/cmdstat_evalsha:calls=(\d+)/.exec(await env.clients[1]!.info('commandstats'))?.[1] ?? 0);
    const before = await calls();
    await m.close();
    for (const got of [await first, await second]) {
      expect((got as LockError).code).toBe('LOCK_MANAGER_CLOSED');
    }
    await sleep(100);
    // One script call: the release of the held lock. No attempt (and no release of its grant) after it.
    expect((await calls()) - before).toBe(1);
    expect(held.signal.aborted).toBe(true);
  });

  it('close() while an attempt is in flight: the grant is released before close() resolves, and nothing heartbeats after', async () => {
    const m = manager({ heartbeatIntervalMs: 100 });
    const watcher = manager();
    await (await m.acquire('edge:inflight:warm', { heartbeat: false })).release();
    let extended = 0;
    m.on('extended', () => extended++);
    const pending = settle(m.acquire('edge:inflight', { ttlMs: 5_000 }));
    await m.close();
    const got = await pending;
    expect(got).toBeInstanceOf(LockError);
    expect((got as LockError).code).toBe('LOCK_MANAGER_CLOSED');
    // Released (not left to expire in 5 s) by the time close() resolved.
    expect((await watcher.inspect('edge:inflight')).holder).toBeUndefined();
    await sleep(400);
    expect(extended).toBe(0);
  });

  it('maxHeldLocks counts acquisitions in flight: concurrent calls cannot overshoot it', async () => {
    const m = manager({ maxHeldLocks: 2 });
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => settle(m.acquire(`edge:limit:${i}`, { heartbeat: false }))),
    );
    const held = results.filter((r): r is Lock => !(r instanceof Error));
    expect(held).toHaveLength(2);
    expect(results.filter((r) => r instanceof LockError && r.code === 'LOCK_LIMIT')).toHaveLength(8);
    for (const lock of held) await lock.release();
    // Released, the slots are free again.
    await (await m.acquire('edge:limit:again', { heartbeat: false })).release();
  });

  it('an election ends when its manager closes', async () => {
    const rounds: string[] = [];
    const logger = {
      debug: (_: unknown, msg: string) => rounds.push(msg),
      info: () => {},
      warn: () => {},
      error: () => {},
    };
    const m = manager({ logger, heartbeatIntervalMs: 500, retry: { minDelayMs: 50, maxDelayMs: 100 } });
    const election = m.elect('edge', { onElected: () => {}, ttlMs: 2_000 });
    await sleep(300);
    expect(election.isLeader).toBe(true);
    await m.close();
    await sleep(1_000);
    expect(rounds.filter((r) => r.startsWith('election round'))).toEqual([]);
    await election.stop();
  });

  it('a waiter whose signal aborts after a hand-off woke it, before its attempt, gets no lock', async () => {
    const m = manager();
    await (await m.acquire('edge:abort:warm', { heartbeat: false })).release(); // scripts loaded
    const holder = await m.acquire('edge:abort', { ttlMs: 5_000, heartbeat: false });
    const ac = new AbortController();
    const waiting = settle(m.acquire('edge:abort', { waitMs: 20_000, signal: ac.signal }));
    await sleep(300);
    const released = holder.release(); // wakes the waiter; its attempt is not written yet
    ac.abort(new Error('caller gave up'));
    await released;
    expect(await waiting).toEqual(new Error('caller gave up'));
    expect((await m.inspect('edge:abort')).holder).toBeUndefined();
  });
});

describe('a caller that gives up around its hand-off', () => {
  it('a waiter that gives up after a hand-off woke it passes the wake-up on: the next waiter does not sleep out its poll', async () => {
    const m = manager();
    await (await m.acquire('edge:pass:warm', { heartbeat: false })).release(); // scripts loaded
    const holder = await m.acquire('edge:pass', { ttlMs: 5_000, heartbeat: false });
    const ac = new AbortController();
    const first = settle(m.acquire('edge:pass', { waitMs: 20_000, signal: ac.signal }));
    await sleep(300);
    const second = settle(m.acquire('edge:pass', { waitMs: 20_000 })); // queued behind the first
    await sleep(300);
    const released = holder.release(); // hands the lock to the first waiter; its attempt is not written yet
    ac.abort(new Error('caller gave up'));
    expect(await released).toEqual({ released: true });
    const start = performance.now();
    const lock = await second;
    if (lock instanceof Error) throw lock;
    // Its own poll is 4-10 s away (SLOW_POLL).
    expect(performance.now() - start).toBeLessThan(1_000);
    expect(await first).toEqual(new Error('caller gave up'));
    expect(await lock.release()).toEqual({ released: true });
  });

  it('a waiter whose signal aborts while its attempt is in flight gets no lock: the grant is given back', async () => {
    const c = client(env.redis.urls[0]!);
    extra.push(c);
    const m = new LockManager({ nodes: c, retry: SLOW_POLL });
    managers.push(m);
    await (await m.acquire('edge:abort-in-flight:warm', { heartbeat: false })).release(); // scripts loaded
    const holder = await m.acquire('edge:abort-in-flight', { ttlMs: 5_000, heartbeat: false });
    const ac = new AbortController();
    let ran = false;
    const waiting = settle(
      m.withLock(
        'edge:abort-in-flight',
        () => {
          ran = true;
        },
        { waitMs: 20_000, signal: ac.signal },
      ),
    );
    await sleep(300);
    // The caller gives up right after the hand-off (the release and its attempt, in one call) is
    // written, before the node answers.
    afterNextCall(c, 'edge:abort-in-flight', () => ac.abort(new Error('caller gave up')));
    expect(await holder.release()).toEqual({ released: true });
    expect(await waiting).toEqual(new Error('caller gave up'));
    expect(ran).toBe(false);
    // The grant's release is written after its reply.
    await waitUntil(
      'grant given back',
      async () => (await m.inspect('edge:abort-in-flight')).holder === undefined,
      2_000,
      20,
    );
    const next = await m.acquire('edge:abort-in-flight');
    expect(next.fence).toBeGreaterThan(holder.fence);
    await next.release();
  });
  it('a grant given back after an abort still reports the stale holder it replaced', async () => {
    const c = client(env.redis.urls[0]!);
    extra.push(c);
    const fast = { staleAfterMs: 1_000, heartbeatIntervalMs: 300 };
    const m = new LockManager({ nodes: c, retry: SLOW_POLL, ...fast });
    managers.push(m);
    await (await m.acquire('edge:abort-stale:warm', { heartbeat: false })).release();
    // A holder that stopped heartbeating: stale after 1 s.
    await manager(fast).acquire('edge:abort-stale', { ttlMs: 10_000, heartbeat: false });
    await sleep(1_200);
    const overridden = vi.fn();
    m.on('override', overridden);
    const ac = new AbortController();
    afterNextCall(c, 'edge:abort-stale', () => ac.abort(new Error('caller gave up')));
    expect(await settle(m.acquire('edge:abort-stale', { signal: ac.signal }))).toEqual(
      new Error('caller gave up'),
    );
    // The nodes replaced (and audited) the stale holder: the event says so although the grant went back.
    expect(overridden).toHaveBeenCalledTimes(1);
  });

  it('a waiter that gives up after a hand-off, with nobody else waiting here, publishes the release for other managers', async () => {
    const m = manager();
    await (await m.acquire('edge:pass-remote:warm', { heartbeat: false })).release();
    // Another manager's subscriber, as a raw connection: it sees what is published on the channel.
    const heard: string[] = [];
    const listener = client(env.redis.urls[0]!);
    extra.push(listener);
    listener.on('message', (_channel: string, message: string) => heard.push(message));
    await listener.subscribe('cxkit:locks:released:edge:pass-remote');
    const holder = await m.acquire('edge:pass-remote', { ttlMs: 10_000, heartbeat: false });
    const ac = new AbortController();
    const ours = settle(m.acquire('edge:pass-remote', { waitMs: 20_000, signal: ac.signal }));
    await sleep(300);
    const released = holder.release(); // hands the lock to our waiter, silently; its attempt is not written yet
    ac.abort(new Error('caller gave up'));
    expect(await released).toEqual({ released: true });
    expect(await ours).toEqual(new Error('caller gave up'));
    await waitUntil('release published', async () => heard.includes('edge:pass-remote'), 2_000, 10);
    // Once, as a release publishes (the others are our waiter's announcements).
    expect(heard.filter((m) => m === 'edge:pass-remote')).toHaveLength(1);
  });

  it('an election stopped while its attempt is in flight resolves stop() once the grant was given back', async () => {
    const c = client(env.redis.urls[0]!);
    extra.push(c);
    const m = new LockManager({ nodes: c, retry: SLOW_POLL });
    managers.push(m);
    await (await m.acquire('edge:stop-in-flight:warm', { heartbeat: false })).release();
    // Replies to release calls on this connection, counted as they arrive.
    let releases = 0;
    const evalsha = c.evalsha.bind(c);
    c.evalsha = ((...args: Parameters<typeof evalsha>) => {
      const sent = evalsha(...args);
      if (args[0] === scripts.release.sha)
        void sent.then(
          () => releases++,
          () => {},
        );
      return sent;
    }) as typeof c.evalsha;
    const onElected = vi.fn();
    const election = m.elect('edge:stop-in-flight', { onElected });
    // Not polled for: the check below must run as soon as stop() resolves.
    const stopping = new Promise<Promise<void>>((resolve) =>
      afterNextCall(c, 'elect:edge:stop-in-flight', () => resolve(election.stop())),
    );
    await await stopping;
    expect(releases).toBe(1);
    expect(onElected).not.toHaveBeenCalled();
  });
});

describe('a waiter of another manager that polls slowly', () => {
  it('keeps announcing itself while it waits: the holder manager publishes its releases instead of handing off silently', async () => {
    const holder = manager();
    const remote = manager();
    for (const x of [holder, remote])
      await (await x.acquire('edge:announce:warm', { heartbeat: false })).release();
    let published = 0; // releases published on the channel after the first hold ends
    const listener = client(env.redis.urls[0]!);
    extra.push(listener);
    listener.on('message', (_channel: string, message: string) => {
      if (message === 'edge:announce') published++;
    });
    await listener.subscribe('cxkit:locks:released:edge:announce');
    const first = await holder.acquire('edge:announce', { ttlMs: 10_000, heartbeat: false });
    // Its attempt fails and it announces itself; its poll is 4-8 s away, its deadline 4 s.
    const theirs = settle(remote.acquire('edge:announce', { waitMs: 4_000 }));
    let done = false;
    void theirs.then(() => {
      done = true;
    });
    // The holder's callers keep the lock busy from well after one announcement lapsed (2 s): each
    // release goes to one of them, silently, unless the remote waiter still announces itself.
    const workers = Array.from({ length: 3 }, async () => {
      while (!done) {
        await holder
          .withLock('edge:announce', () => sleep(50), { waitMs: 10_000 })
          .catch((err: unknown) => err);
        await sleep(20);
      }
    });
    await sleep(2_500);
    await first.release();
    const result = await theirs;
    await Promise.all(workers);
    if (!(result instanceof Error)) await result.release();
    // Either the remote waiter won a published release, or it lost them all (in this one process the
    // holder's own subscriber may hear each first), but they were published: about one every 70 ms.
    expect(!(result instanceof Error) || published >= 5).toBe(true);
  });
});

describe('a channel dropped while a caller was attempting', () => {
  it('a mark taken on the dropped channel never matches the new one: the wait returns at once', async () => {
    const c = client(env.redis.urls[0]!);
    extra.push(c);
    // One waiter at most: a channel left idle while another lingers is dropped at once.
    const notifier = new ReleaseNotifier([c as unknown as ScriptClient], 1, 1_000, undefined);
    try {
      const y = notifier.watch('edge:drop:y');
      await y.ready;
      y[Symbol.dispose](); // lingers
      const x = notifier.watch('edge:drop:x');
      await x.ready;
      const mark = notifier.mark('edge:drop:x');
      expect(mark).toBeDefined();
      x[Symbol.dispose](); // two idle channels, one allowed: dropped
      const again = notifier.watch('edge:drop:x');
      const start = performance.now();
      // A release heard by the old channel, if any, is not counted by the new one: look again at once.
      expect(await again.wait(5_000, undefined, mark)).toBe('release');
      expect(performance.now() - start).toBeLessThan(1_000);
      again[Symbol.dispose]();
    } finally {
      notifier.close();
    }
  });
});

describe('a waiter whose subscriber connection drops', () => {
  it('looks again once it is subscribed again: a release published meanwhile is not waited out', async () => {
    const holder = manager();
    const waiter = manager();
    const lock = await holder.acquire('edge:reconnect', { ttlMs: 20_000, heartbeat: false });
    const waiting = settle(waiter.acquire('edge:reconnect', { waitMs: 6_000 }));
    await sleep(300); // its attempts failed, it is subscribed and waits out its 8-10 s poll
    // Every subscriber connection goes; the release right after publishes to nobody.
    await env.clients[1]!.client('KILL', 'TYPE', 'pubsub');
    const start = performance.now();
    expect(await lock.release()).toEqual({ released: true });
    const got = await waiting;
    expect(got).not.toBeInstanceOf(Error);
    // ioredis reconnects within ~50 ms; the waiter looks again then, not after its poll or deadline.
    expect(performance.now() - start).toBeLessThan(2_000);
    await (got as Lock).release();
  });
});

describe('a waiter whose release channel could not be subscribed at first', () => {
  it('subscribes once its connection is up and is woken by another manager’s release', async () => {
    // The offline queue off: the subscriber connection (a duplicate) refuses SUBSCRIBE until it is ready.
    const { Redis } = await import('ioredis');
    const strict = new Redis(env.redis.urls[0]!, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    extra.push(strict);
    await new Promise((resolve) => strict.once('ready', resolve));
    const waiting = new LockManager({ nodes: strict, retry: SLOW_POLL });
    managers.push(waiting);
    const holder = manager();
    const held = await holder.acquire('edge:offline-queue', { heartbeat: false });
    const granted = settle(waiting.acquire('edge:offline-queue', { waitMs: 6_000, heartbeat: false }));
    // Past the first subscription's timeout (requestTimeoutMs, 1 s): the waiter then waits on its poll.
    await sleep(1_500);
    const released = performance.now();
    await held.release();
    const lock = await granted;
    // Woken by the release, not by its 8-10 s poll (nor the 6 s deadline).
    expect(lock).not.toBeInstanceOf(Error);
    expect(performance.now() - released).toBeLessThan(2_000);
    await (lock as Lock).release();
  });
});

describe('a waiter whose subscription is not answered', () => {
  /** A client whose subscriber connection never answers SUBSCRIBE (e.g. a node that stalls). */
  function stalledSubscriber(): Redis {
    const c = client(env.redis.urls[0]!);
    extra.push(c);
    const duplicate = c.duplicate.bind(c);
    c.duplicate = ((...args: Parameters<Redis['duplicate']>) => {
      const sub = duplicate(...args);
      extra.push(sub);
      sub.subscribe = (() => new Promise(() => {})) as never;
      return sub;
    }) as Redis['duplicate'];
    return c;
  }

  it('still gives up at its waitMs, and at once on abort', async () => {
    const holder = manager();
    const held = await holder.acquire('edge:stalled-sub', { heartbeat: false });
    const m = new LockManager({ nodes: stalledSubscriber(), retry: SLOW_POLL, requestTimeoutMs: 2_000 });
    managers.push(m);
    let started = performance.now();
    const timedOut = await settle(m.acquire('edge:stalled-sub', { waitMs: 200, heartbeat: false }));
    expect(timedOut).toBeInstanceOf(LockError);
    expect((timedOut as LockError).code).toBe('LOCK_ACQUIRE_TIMEOUT');
    // Not the 2 s the subscription may take before the waiter stops waiting for it.
    expect(performance.now() - started).toBeLessThan(1_000);
    started = performance.now();
    const aborted = await settle(
      m.acquire('edge:stalled-sub', { waitMs: 5_000, heartbeat: false, signal: AbortSignal.timeout(200) }),
    );
    expect(aborted).toBeInstanceOf(Error);
    expect(performance.now() - started).toBeLessThan(1_000);
    await held.release();
  });
});
