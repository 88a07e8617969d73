import { type LockScript, scripts } from './scripts.js';

type Arg = string | number;

/** One script call waiting for a node's next write. */
export interface QueuedCall {
  script: LockScript;
  keys: string[];
  args: Arg[];
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Run = (script: LockScript, keys: string[], args: Arg[]) => Promise<unknown>;

/** Whether `acquire` asks for the one lock `release` gives up, without waking anyone (a hand-off). */
const handsOver = (release: QueuedCall, acquire: QueuedCall | undefined): acquire is QueuedCall =>
  release.script === scripts.release &&
  acquire?.script === scripts.acquire &&
  release.keys.length === 2 &&
  acquire.keys.length === 4 &&
  release.keys[0] === acquire.keys[2] &&
  release.args[2] === '';

/**
 * Joins a release that is directly followed by an acquire of the same lock (`LockNode.hold` writes a
 * release and its waiter's attempt together) into one hand-off call (handoff.lua), which replies as the
 * two would. When the node cannot hand the lock over as is (the record expired or changed, the node
 * restarted empty), the two calls follow on their own. Other calls keep their order.
 */
export function joinHandOffs(queue: QueuedCall[], run: Run): QueuedCall[] {
  let out: QueuedCall[] | undefined;
  for (let i = 0; i < queue.length; i++) {
    const release = queue[i]!;
    const acquire = queue[i + 1];
    if (!handsOver(release, acquire)) {
      out?.push(release);
      continue;
    }
    out ??= queue.slice(0, i);
    const reject = (error: unknown) => {
      release.reject(error);
      acquire.reject(error);
    };
    out.push({
      script: scripts.handoff,
      keys: acquire.keys,
      args: acquire.args.concat(release.args),
      resolve(reply) {
        if (Array.isArray(reply) && reply.length === 2) {
          release.resolve(reply[0]);
          acquire.resolve(reply[1]);
        } else if (Array.isArray(reply) && reply.length === 0) {
          run(release.script, release.keys, release.args).then(release.resolve, release.reject);
          run(acquire.script, acquire.keys, acquire.args).then(acquire.resolve, acquire.reject);
        } else reject(new TypeError(`unexpected hand-off reply: ${String(reply)}`));
      },
      reject,
    });
    i++;
  }
  return out ?? queue;
}
