import { type LockNode, NodeTimeoutError } from './node.js';

/** One node's answer in a round: a value, or the error (timeouts included). */
export type Reply<T> = { ok: true; value: T } | { ok: false; error: unknown };

export interface RoundOptions<T> {
  /** Nodes that have not answered by then count as timed out (one timer per round, not per node). */
  timeoutMs: number;
  /** Decides the round early, e.g. at the quorum-th vote or once a quorum has become impossible. */
  settled?: (replies: readonly (Reply<T> | undefined)[]) => boolean;
  /** Successful answers that arrive after the round was decided (they may have written). */
  onLate?: (index: number, reply: Reply<T>) => void;
  /** Sees each successful answer that arrives in time, before `settled` (no extra promise hop). */
  onReply?: (index: number, value: T) => void;
}

/**
 * Sends one call to every node in parallel and resolves when `settled` says the outcome is decided,
 * when every node has answered, or at the timeout. Slots of nodes that had not answered when the round
 * was decided early are `undefined`.
 */
export function round<T>(
  nodes: readonly LockNode[],
  call: (node: LockNode, index: number) => Promise<T>,
  options: RoundOptions<T>,
): Promise<(Reply<T> | undefined)[]> {
  const replies: (Reply<T> | undefined)[] = nodes.map(() => undefined);
  const { settled, onLate, onReply } = options;
  return new Promise((resolve) => {
    let pending = nodes.length;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      // Answers after this point go to `onLate` and never touch `replies`: no copy needed.
      resolve(replies);
    };
    const timer = setTimeout(() => {
      for (let i = 0; i < replies.length; i++) {
        replies[i] ??= {
          ok: false,
          error: new NodeTimeoutError(`${nodes[i]!.label} did not answer in ${options.timeoutMs} ms`),
        };
      }
      finish();
    }, options.timeoutMs);
    timer.unref();
    if (pending === 0) finish();
    nodes.forEach((node, index) => {
      let work: Promise<T>;
      try {
        work = call(node, index);
      } catch (error) {
        work = Promise.reject(error);
      }
      work.then(
        (value) => {
          if (done) return onLate?.(index, { ok: true, value });
          onReply?.(index, value);
          replies[index] = { ok: true, value };
          pending--;
          if (pending === 0 || settled?.(replies)) finish();
        },
        (error: unknown) => {
          if (done) return;
          replies[index] = { ok: false, error };
          pending--;
          if (pending === 0 || settled?.(replies)) finish();
        },
      );
    });
  });
}
