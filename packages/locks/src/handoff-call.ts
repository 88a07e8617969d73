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

/** Whether `acquire` asks for the one lock `release` gives up, without waking anyone (a hand-off). */
const handsOver = (release: QueuedCall, acquire: QueuedCall | undefined): acquire is QueuedCall =>
  release.script === scripts.release &&
  acquire?.script === scripts.acquire &&
  release.keys.length === 2 &&
  acquire.keys.length === 4 &&
  release.keys[0] === acquire.keys[2] &&
  release.args[3] === '';

/** Hands a part of the hand-off reply to its caller: a part that failed in the script is an error reply. */
const settle = (call: QueuedCall, part: unknown) =>
  part instanceof Error ? call.reject(part) : call.resolve(part);

/**
 * Joins a release that is directly followed by an acquire of the same lock (`LockNode.hold` writes a
 * release and its waiter's attempt together) into one hand-off call (handoff.lua), which replies as the
 * two would, run one after the other. Other calls keep their order.
 */
export function joinHandOffs(queue: QueuedCall[]): QueuedCall[] {
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
        if (!Array.isArray(reply) || reply.length !== 2) {
          reject(new TypeError(`unexpected hand-off reply: ${String(reply)}`));
          return;
        }
        settle(release, reply[0]);
        settle(acquire, reply[1]);
      },
      reject,
    });
    i++;
  }
  return out ?? queue;
}
