// Adapters that give every lock library the same two operations, so the scenarios stay library-neutral.
import { LockManager } from '@cxkit/locks';
import { Redlock as SesameRedlock } from '@sesamecare-oss/redlock';
import { Redis } from 'ioredis';
import { Mutex, RedlockMutex } from 'redis-semaphore';
import Redlock from 'redlock';

export const TTL_MS = 10_000;
/** Anchors poll while waiting; we give them their tightest sensible setting (10 ms + jitter), not their 200 ms defaults. */
const POLL_MS = 10;

export interface Candidate {
  /** Acquire (one attempt) and release a free resource. */
  once(resource: string): Promise<void>;
  /** Acquire (waiting as long as needed), run `section`, release. */
  exclusive(resource: string, section: () => Promise<void>): Promise<void>;
  close(): Promise<void>;
}

const connect = (urls: string[]) => urls.map((url) => new Redis(url));
const quit = (clients: Redis[]) => Promise.all(clients.map((c) => c.quit()));

export function cxkit(urls: string[]): { candidate: Candidate; manager: LockManager } {
  const clients = connect(urls);
  const manager = new LockManager({
    nodes: urls.length === 1 ? clients[0]! : clients,
    defaultTtlMs: TTL_MS,
    maxTtlMs: TTL_MS,
    staleAfterMs: TTL_MS,
    heartbeatIntervalMs: 3_000,
  });
  return {
    manager,
    candidate: {
      once: async (r) => {
        await (await manager.acquire(r)).release();
      },
      exclusive: (r, section) => manager.withLock(r, section, { waitMs: 60_000 }),
      close: async () => {
        await manager.close();
        await quit(clients);
      },
    },
  };
}

/** The acquire/release shape redlock@5 and its @sesamecare-oss fork share. */
interface RedlockLike {
  acquire(resources: string[], ttlMs: number): Promise<{ release(): Promise<unknown> }>;
}
type RedlockOptions = { retryCount: number; retryDelay?: number; retryJitter?: number };

function redlockCandidate(
  urls: string[],
  make: (clients: Redis[], options: RedlockOptions) => RedlockLike,
): Candidate {
  const clients = connect(urls);
  const once = make(clients, { retryCount: 0 });
  const waiting = make(clients, { retryCount: 100_000, retryDelay: POLL_MS, retryJitter: POLL_MS });
  return {
    once: async (r) => {
      await (await once.acquire([r], TTL_MS)).release();
    },
    exclusive: async (r, section) => {
      const lock = await waiting.acquire([r], TTL_MS);
      await section();
      await lock.release();
    },
    close: () => quit(clients).then(() => {}),
  };
}

export const redlock = (urls: string[]): Candidate =>
  redlockCandidate(urls, (clients, options) => new Redlock(clients, options));

export const sesame = (urls: string[]): Candidate =>
  redlockCandidate(urls, (clients, options) => new SesameRedlock(clients, options));

/** redis-semaphore: `Mutex` on one node, `RedlockMutex` on several. */
export function semaphore(urls: string[]): Candidate {
  const clients = connect(urls);
  const options = { lockTimeout: TTL_MS, acquireTimeout: 60_000, retryInterval: POLL_MS };
  const make = (r: string) =>
    urls.length === 1 ? new Mutex(clients[0]!, r, options) : new RedlockMutex(clients, r, options);
  return {
    once: async (r) => {
      const m = make(r);
      await m.acquire();
      await m.release();
    },
    exclusive: async (r, section) => {
      const m = make(r);
      await m.acquire();
      await section();
      await m.release();
    },
    close: () => quit(clients).then(() => {}),
  };
}

/**
 * The hand-off floor: an in-process queue that pays exactly one round trip per hand-off (a PING to
 * every node, done at the quorum-th reply) before the next section starts; no lock record at all.
 */
export function roundTripFloor(urls: string[]): Candidate {
  const clients = connect(urls);
  const quorum = Math.floor(urls.length / 2) + 1;
  const roundTrip = () =>
    new Promise<void>((resolve, reject) => {
      let replies = 0;
      for (const c of clients) c.ping().then(() => ++replies === quorum && resolve(), reject);
    });
  const tails = new Map<string, Promise<void>>();
  return {
    once: roundTrip,
    exclusive: async (r, section) => {
      const previous = tails.get(r) ?? Promise.resolve();
      let done!: () => void;
      const mine = new Promise<void>((resolve) => (done = resolve));
      tails.set(r, mine);
      await previous;
      try {
        await roundTrip();
        await section();
      } finally {
        if (tails.get(r) === mine) tails.delete(r);
        done();
      }
    },
    close: () => quit(clients).then(() => {}),
  };
}
