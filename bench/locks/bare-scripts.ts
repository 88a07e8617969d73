// cxkit's own script calls with no library around them: the exact EVALSHA calls a LockManager sends
// for one acquire+release and for one hand-off, recorded once from the nodes' SLOWLOG and replayed
// with fresh names and tokens by a client that does nothing else. The anchors' distance to this row is
// what the scripts cost on the server and the wire; cxkit's distance to it is its own client code.
import type { LockManager } from '@cxkit/locks';
import { Redis } from 'ioredis';
import type { Candidate } from './candidates.js';

type Call = string[];
/** Per node: the calls it received, in order (nodes a call did not reach have none). */
type Recorded = Call[][];

interface Capture {
  once: { resource: string; token: string; acquire: Recorded; release: Recorded };
  handOff: { resource: string; from: string; to: string; calls: Recorded };
}

/** Every EVALSHA each node ran (oldest first) while `work` ran; the slowlog is restored afterwards. */
async function recordCalls(admins: Redis[], work: () => Promise<void>): Promise<Call[][]> {
  const before = await Promise.all(admins.map((a) => a.config('GET', 'slowlog-log-slower-than')));
  await Promise.all(
    admins.map(async (a) => {
      await a.config('SET', 'slowlog-log-slower-than', '0');
      await a.slowlog('RESET');
    }),
  );
  try {
    await work();
  } finally {
    await Promise.all(
      admins.map((a, i) => a.config('SET', 'slowlog-log-slower-than', (before[i] as string[])[1] ?? '10000')),
    );
  }
  return Promise.all(
    admins.map(async (a) => {
      const entries = (await a.slowlog('GET', 1000)) as [number, number, number, string[]][];
      return entries
        .reverse()
        .map((e) => e[3])
        .filter((args) => args[0]?.toLowerCase() === 'evalsha');
    }),
  );
}

async function capture(admins: Redis[], manager: LockManager): Promise<Capture> {
  const tag = `bare-${Date.now().toString(36)}`;
  const once = { resource: `${tag}-once`, token: '' };
  const handOff = { resource: `${tag}-handoff`, from: '', to: '' };
  const calls = await recordCalls(admins, async () => {
    const lock = await manager.acquire(once.resource);
    once.token = lock.token;
    await lock.release();
    // The second caller waits in the same manager, so the first one's release hands the lock over.
    let entered!: () => void;
    const first = new Promise<void>((resolve) => (entered = resolve));
    await Promise.all([
      manager.withLock(handOff.resource, async (l) => {
        handOff.from = l.token;
        entered();
        await new Promise((r) => setTimeout(r, 50));
      }),
      first.then(() =>
        manager.withLock(
          handOff.resource,
          (l) => {
            handOff.to = l.token;
          },
          { waitMs: 5_000 },
        ),
      ),
    ]);
  });
  const having = (node: Call[], ...parts: string[]) => node.filter((c) => parts.every((p) => c.includes(p)));
  const onceCalls = calls.map((node) => having(node, once.token));
  const handOffCalls = calls.map((node) => having(node, handOff.from, handOff.to));
  if (!onceCalls.some((c) => c.length === 2) || !handOffCalls.some((c) => c.length === 1))
    throw new Error('bare scripts: could not record an acquire, a release and a hand-off call');
  return {
    once: {
      ...once,
      // By key count: the acquire script takes 4 keys, the release 2 (a release also goes to nodes the
      // acquire did not ask, where a later write may have put the record).
      acquire: onceCalls.map((c) => c.filter((call) => call[2] === '4')),
      release: onceCalls.map((c) => c.filter((call) => call[2] === '2')),
    },
    handOff: { ...handOff, calls: handOffCalls },
  };
}

const swap = (call: Call, pairs: [string, string][]) =>
  call.map((arg) => pairs.reduce((s, [from, to]) => s.replaceAll(from, to), arg));

export async function bareScripts(urls: string[], manager: LockManager): Promise<Candidate> {
  const clients = urls.map((url) => new Redis(url));
  const recorded = await capture(clients, manager);
  const quorum = Math.floor(urls.length / 2) + 1;
  /** Sends each node its recorded call (renamed) and resolves at the quorum-th reply. */
  const send = (calls: Recorded, pairs: [string, string][]) =>
    new Promise<void>((resolve, reject) => {
      let replies = 0;
      calls.forEach((node, i) => {
        for (const call of node) {
          const [sha, ...rest] = swap(call, pairs).slice(1);
          clients[i]!.call('evalsha', sha!, ...rest).then(() => ++replies === quorum && resolve(), reject);
        }
      });
    });
  const { once, handOff } = recorded;
  const tails = new Map<string, { tail: Promise<void>; turn: number; waiting: number }>();
  return {
    once: async (r) => {
      const pairs: [string, string][] = [[once.resource, r]];
      await send(once.acquire, pairs);
      await send(once.release, pairs);
    },
    // An in-process queue per resource, as cxkit's waiters in one manager: the first caller acquires,
    // every later one is handed the lock by one hand-off call, the last one releases.
    exclusive: async (r, section) => {
      const q = tails.get(r) ?? { tail: Promise.resolve(), turn: -1, waiting: 0 };
      tails.set(r, q);
      const previous = q.tail;
      let done!: () => void;
      q.tail = new Promise<void>((resolve) => (done = resolve));
      q.waiting++;
      await previous;
      q.waiting--;
      const token = (n: number) => `${r}#${n}`;
      if (q.turn < 0)
        await send(once.acquire, [
          [once.resource, r],
          [once.token, token(0)],
        ]);
      else
        await send(handOff.calls, [
          [handOff.resource, r],
          [handOff.from, token(q.turn)],
          [handOff.to, token(q.turn + 1)],
        ]);
      q.turn++;
      try {
        await section();
      } finally {
        if (q.waiting === 0) {
          tails.delete(r);
          await send(once.release, [
            [once.resource, r],
            [once.token, token(q.turn)],
          ]);
        }
        done();
      }
    },
    close: () => Promise.all(clients.map((c) => c.quit())).then(() => {}),
  };
}
