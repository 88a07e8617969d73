// cxkit's own script calls with no library around them: the exact EVALSHA calls a LockManager on one
// node sends for one acquire+release and for one hand-off, recorded once from the node's SLOWLOG and replayed
// with fresh names and tokens by a client that does nothing else. The anchors' distance to this row is
// what the scripts cost on the server and the wire; cxkit's distance to it is its own client code.
import type { LockManager } from '@cxkit/locks';
import { Redis } from 'ioredis';
import type { Candidate } from './candidates.js';
import { takeTurns } from './turns.js';

/** One recorded command: `evalsha`, the SHA, the key count, keys and arguments. */
type Call = string[];

interface Capture {
  once: { resource: string; token: string; acquire: Call; release: Call };
  handOff: { resource: string; from: string; to: string; call: Call };
}

/** Every EVALSHA the node ran (oldest first) while `work` ran; the slowlog setting is restored afterwards. */
async function recordCalls(admin: Redis, work: () => Promise<void>): Promise<Call[]> {
  const before = (await admin.config('GET', 'slowlog-log-slower-than')) as string[];
  await admin.config('SET', 'slowlog-log-slower-than', '0');
  await admin.slowlog('RESET');
  try {
    await work();
  } finally {
    await admin.config('SET', 'slowlog-log-slower-than', before[1] ?? '10000');
  }
  const entries = (await admin.slowlog('GET', 1000)) as [number, number, number, string[]][];
  return entries
    .reverse()
    .map((e) => e[3])
    .filter((args) => args[0]?.toLowerCase() === 'evalsha');
}

async function capture(admin: Redis, manager: LockManager): Promise<Capture> {
  const tag = `bare-${Date.now().toString(36)}`;
  const once = { resource: `${tag}-once`, token: '' };
  const handOff = { resource: `${tag}-handoff`, from: '', to: '' };
  const calls = await recordCalls(admin, async () => {
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
  const having = (...parts: string[]) => calls.filter((c) => parts.every((p) => c.includes(p)));
  // By key count: the acquire script takes 4 keys, the release 2.
  const [acquire] = having(once.token).filter((c) => c[2] === '4');
  const [release] = having(once.token).filter((c) => c[2] === '2');
  const [call] = having(handOff.from, handOff.to);
  if (!acquire || !release || !call)
    throw new Error('bare scripts: could not record an acquire, a release and a hand-off call');
  return { once: { ...once, acquire, release }, handOff: { ...handOff, call } };
}

const swap = (call: Call, pairs: [string, string][]) =>
  call.map((arg) => pairs.reduce((s, [from, to]) => s.replaceAll(from, to), arg));

export async function bareScripts(url: string, manager: LockManager): Promise<Candidate> {
  const client = new Redis(url);
  const recorded = await capture(client, manager);
  /** Sends the recorded call, renamed. */
  const send = (call: Call, pairs: [string, string][]) => {
    const [sha, ...rest] = swap(call, pairs).slice(1);
    return client.call('evalsha', sha!, ...rest);
  };
  const { once, handOff } = recorded;
  return {
    once: async (r) => {
      const pairs: [string, string][] = [[once.resource, r]];
      await send(once.acquire, pairs);
      await send(once.release, pairs);
    },
    exclusive: takeTurns({
      acquire: (r, token) =>
        send(once.acquire, [
          [once.resource, r],
          [once.token, token],
        ]),
      handOff: (r, from, to) =>
        send(handOff.call, [
          [handOff.resource, r],
          [handOff.from, from],
          [handOff.to, to],
        ]),
      release: (r, token) =>
        send(once.release, [
          [once.resource, r],
          [once.token, token],
        ]),
    }),
    close: () => client.quit().then(() => {}),
  };
}
