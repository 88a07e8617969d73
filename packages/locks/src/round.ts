import type { LockNode } from './node.js';

/** One node's answer in a round: a value, or the error (timeouts included). */
export type Reply<T> = { ok: true; value: T } | { ok: false; error: unknown };

/**
 * Sends one call to every node in parallel and resolves as soon as `settled` says the outcome is
 * decided (e.g. at the quorum-th vote, or once a quorum has become impossible), or when every node
 * has answered. Slots of nodes that have not answered yet are `undefined`; answers arriving after
 * the decision go to `onLate`.
 */
export function round<T>(
  nodes: readonly LockNode[],
  call: (node: LockNode, index: number) => Promise<T>,
  settled: (replies: readonly (Reply<T> | undefined)[]) => boolean = () => false,
  onLate?: (index: number, reply: Reply<T>) => void,
): Promise<(Reply<T> | undefined)[]> {
  const replies: (Reply<T> | undefined)[] = nodes.map(() => undefined);
  return new Promise((resolve) => {
    let pending = nodes.length;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      resolve([...replies]);
    };
    if (pending === 0) finish();
    nodes.forEach((node, index) => {
      let work: Promise<T>;
      try {
        work = call(node, index);
      } catch (error) {
        work = Promise.reject(error);
      }
      work
        .then(
          (value) => {
            replies[index] = { ok: true, value };
            if (done) onLate?.(index, { ok: true, value });
          },
          (error: unknown) => {
            replies[index] = { ok: false, error };
          },
        )
        .finally(() => {
          pending--;
          if (pending === 0 || settled(replies)) finish();
        });
    });
  });
}
