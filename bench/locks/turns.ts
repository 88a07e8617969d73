// The waiting side of the bare-client candidates: an in-process queue per resource, as cxkit's waiters
// in one manager. The first caller acquires, every later one is handed the lock by one call, and the
// last one releases.
import type { Candidate } from './candidates.js';

/** The three script calls a bare client makes; tokens are `${resource}#${turn}`. */
export interface TurnCalls {
  acquire(resource: string, token: string): Promise<unknown>;
  handOff(resource: string, from: string, to: string): Promise<unknown>;
  release(resource: string, token: string): Promise<unknown>;
}

export function takeTurns(calls: TurnCalls): Candidate['exclusive'] {
  const queues = new Map<string, { tail: Promise<void>; turn: number; waiting: number }>();
  return async (r, section) => {
    const q = queues.get(r) ?? { tail: Promise.resolve(), turn: -1, waiting: 0 };
    queues.set(r, q);
    const previous = q.tail;
    let done!: () => void;
    q.tail = new Promise<void>((resolve) => (done = resolve));
    q.waiting++;
    await previous;
    q.waiting--;
    const token = (n: number) => `${r}#${n}`;
    let granted = false;
    try {
      if (q.turn < 0) await calls.acquire(r, token(0));
      else await calls.handOff(r, token(q.turn), token(q.turn + 1));
      granted = true;
      q.turn++;
      await section();
    } finally {
      // A failed call still lets the next caller go (its own call then fails too): the run fails, not hangs.
      try {
        if (q.waiting === 0) {
          queues.delete(r);
          if (granted) await calls.release(r, token(q.turn));
        }
      } finally {
        done();
      }
    }
  };
}
