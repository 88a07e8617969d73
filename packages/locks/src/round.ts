import type { NodeHealth } from './health.js';
import type { LockNode } from './node.js';
import { NodeTimeoutError } from './node-errors.js';
import { HEDGE_FACTOR, MIN_HEDGE_MS } from './wave.js';

/** The share of `timeoutMs` after which a node that has not answered may be given up on. */
const GIVE_UP_FRACTION = 0.25;

/** One node's answer in a round: a value, or the error (timeouts included). */
export type Reply<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** Ask some nodes first and the others only when needed. */
export interface Wave<T> {
  /** Node indexes asked first. */
  readonly first: readonly number[];
  /** The others are asked too when the first wave has not decided the round by then. */
  readonly hedgeMs: number;
  /** True when this answer from a first-wave node means the others must be asked at once. */
  widen(index: number, reply: Reply<T>): boolean;
  /** Filled by the round: every node it asked. */
  readonly asked: Set<number>;
}

export interface RoundOptions<T> {
  /** Nodes that have not answered by then count as timed out (one timer per round, not per node). */
  timeoutMs: number;
  /** Decides the round early, e.g. at the quorum-th vote or once a quorum has become impossible. */
  settled?: (replies: readonly (Reply<T> | undefined)[]) => boolean;
  /** Answers (errors too) that arrive after the round was decided: they may have written. */
  onLate?: (index: number, reply: Reply<T>) => void;
  /** Sees each successful answer that arrives in time, before `settled` (no extra promise hop). */
  onReply?: (index: number, value: T) => void;
  /** Ask these nodes first (default: every node at once). */
  wave?: Wave<T>;
  /**
   * Once the only nodes left to answer are lagging ones (first-wave nodes, or nodes that failed or
   * lagged recently when asked, still silent a quarter of `timeoutMs` after they were asked, or at the
   * hedge if they had not answered since they last failed): true decides the round now instead of at
   * the timeout (e.g. a split vote that a paused node would otherwise hold for the whole `timeoutMs`);
   * their late answers still reach `onLate`.
   */
  stopWaiting?: (replies: readonly (Reply<T> | undefined)[]) => boolean;
  /** Told how each node answered (reply times, failures, lagging first-wave nodes). */
  health?: NodeHealth;
}

/**
 * Sends one call to every node in parallel (or to a first wave, widened to every node when that wave
 * cannot decide the round) and resolves when `settled` says the outcome is decided, when every node
 * asked has answered, or at the timeout. Slots of nodes that were not asked, or had not answered when
 * the round was decided early, are `undefined`.
 */
export function round<T>(
  nodes: readonly LockNode[],
  call: (node: LockNode, index: number) => Promise<T>,
  options: RoundOptions<T>,
): Promise<(Reply<T> | undefined)[]> {
  const replies: (Reply<T> | undefined)[] = nodes.map(() => undefined);
  const { settled, onLate, onReply, wave, health, stopWaiting } = options;
  // Nodes not worth waiting for once `stopWaiting` says so (see there).
  const lagging: number[] = [];
  // A node that answered last time it was asked is given up on no sooner than this: under CPU load a
  // healthy node can miss a hedge of a few ms, and giving up on it turns a plain conflict into an
  // undecided round. A node that has not answered since it last failed (e.g. a paused one) is given up
  // on at the hedge: waiting for it would keep a split vote, and the records it left, for longer.
  const giveUpMs = Math.max(wave?.hedgeMs ?? 0, options.timeoutMs * GIVE_UP_FRACTION);
  // First-wave nodes that were down when this round asked them (not ones another round's hedge marked
  // since: under load that is a stall, not a pause).
  const wasDown = wave && health ? wave.first.filter((i) => health.down(i)) : [];
  return new Promise((resolve) => {
    let pending = 0;
    let done = false;
    let widened = !wave;
    let timer: NodeJS.Timeout | undefined;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      // Answers after this point go to `onLate` and never touch `replies`: no copy needed.
      resolve(replies);
    };
    const check = () => {
      if (settled?.(replies)) return finish();
      if (pending > 0) {
        if (stopWaiting && lagging.length > 0 && pending === lagging.filter((i) => !replies[i]).length) {
          if (stopWaiting(replies)) finish();
        }
        return;
      }
      // A first wave that answered without deciding the round: ask the others.
      if (!widened) widen();
      if (pending === 0) finish();
    };
    const send = (index: number) => {
      wave?.asked.add(index);
      pending++;
      const sentAt = health ? performance.now() : 0;
      if (health?.suspect(index, sentAt)) {
        // A node that lagged recently gets as long as a first-wave node (or a hedge by its own usual
        // reply time, if longer) before it may be given up on: a slow node under load is not a paused
        // one. One that has not answered since it failed gets the hedge.
        const usual = health.rttMs(index) * HEDGE_FACTOR || 0; // NaN before its first answer
        const base = health.down(index) ? (wave?.hedgeMs ?? MIN_HEDGE_MS) : giveUpMs;
        const graceMs = Math.min(Math.max(base, usual, MIN_HEDGE_MS), options.timeoutMs / 2);
        const grace = setTimeout(() => {
          if (done || replies[index]) return;
          lagging.push(index);
          check();
        }, graceMs);
        grace.unref();
      }
      let work: Promise<T>;
      try {
        work = call(nodes[index]!, index);
      } catch (error) {
        work = Promise.reject(error);
      }
      work.then(
        (value) => {
          health?.answered(index, performance.now() - sentAt);
          if (done) return onLate?.(index, { ok: true, value });
          onReply?.(index, value);
          const reply: Reply<T> = { ok: true, value };
          replies[index] = reply;
          pending--;
          if (!widened && wave!.widen(index, reply)) widen();
          check();
        },
        (error: unknown) => {
          health?.failed(index);
          if (done) return onLate?.(index, { ok: false, error });
          replies[index] = { ok: false, error };
          pending--;
          widen();
          check();
        },
      );
    };
    const widen = () => {
      if (widened) return;
      widened = true;
      for (let i = 0; i < nodes.length; i++) if (!wave!.asked.has(i)) send(i);
    };
    const timeout = () => {
      for (let i = 0; i < replies.length; i++) {
        if (replies[i] || (wave && !wave.asked.has(i))) continue;
        health?.failed(i);
        replies[i] = {
          ok: false,
          error: new NodeTimeoutError(`${nodes[i]!.label} did not answer in ${options.timeoutMs} ms`),
        };
      }
      finish();
    };
    if (wave) {
      // One timer per round: the hedge, the give-up, then what is left of the timeout.
      const hedgeMs = Math.min(wave.hedgeMs, giveUpMs);
      const giveUp = () => {
        for (const i of wave.first) if (!replies[i] && !lagging.includes(i)) lagging.push(i);
        timer = setTimeout(timeout, options.timeoutMs - giveUpMs);
        timer.unref();
        check();
      };
      timer = setTimeout(() => {
        if (!widened) {
          // Left out of the next first waves; waited for until the give-up unless it was down already.
          for (const i of wave.first) {
            if (replies[i]) continue;
            health?.failed(i);
            if (wasDown.includes(i)) lagging.push(i);
          }
          widen();
        }
        if (done) return;
        timer = setTimeout(giveUp, giveUpMs - hedgeMs);
        timer.unref();
      }, hedgeMs);
      for (const i of wave.first) send(i);
    } else {
      timer = setTimeout(timeout, options.timeoutMs);
      for (let i = 0; i < nodes.length; i++) send(i);
    }
    timer.unref();
    if (nodes.length === 0) finish();
  });
}
