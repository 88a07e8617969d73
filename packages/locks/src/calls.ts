import { Batcher, type BatchKind, type RunScript } from './batch.js';
import { asArray, holderAt, toNumber } from './parse.js';
import { scripts } from './scripts.js';
import type { HolderInfo } from './types.js';

/** One lock's answer from the acquire script, with the node's epoch marker (the same for a whole call). */
export interface AcquireReply {
  status: number;
  fence: number;
  epoch: unknown;
  epochAge: unknown;
  holder: HolderInfo | undefined;
  /** Whether the node's vote counts (amnesia guard); true until the caller has judged the epoch. */
  trusted: boolean;
}

/** Script status of a lock record in another layout: that lock's call fails, the rest of its batch goes on. */
const FOREIGN = -2;
const foreignRecord = () =>
  new Error(
    'CXKIT_LAYOUT lock record in another layout (written by another cxkit version?): use a new prefix',
  );

/** Acquire script reply: epoch id, epoch age, then per lock status, fence, holder length, holder. */
const acquireKind: BatchKind<AcquireReply> = {
  script: scripts.acquire,
  write: true,
  split(reply, count) {
    const raw = asArray(reply);
    const out: (AcquireReply | Error)[] = [];
    let at = 2;
    for (let i = 0; i < count; i++) {
      const length = toNumber(raw[at + 2]);
      const holder = length > 0 ? holderAt(raw, at + 3) : undefined;
      const status = toNumber(raw[at]);
      out.push(
        status === FOREIGN
          ? foreignRecord()
          : {
              status,
              fence: toNumber(raw[at + 1]),
              epoch: raw[0],
              epochAge: raw[1],
              holder,
              trusted: true,
            },
      );
      at += 3 + length;
    }
    if (at !== raw.length)
      throw new TypeError(`unexpected acquire reply for ${count} locks: ${raw.length} values`);
    return out;
  },
};

/** Release script reply: one code per lock. */
const releaseKind: BatchKind<number> = {
  script: scripts.release,
  write: false,
  split(reply, count) {
    const raw = asArray(reply);
    if (raw.length !== count)
      throw new TypeError(`unexpected release reply for ${count} locks: ${raw.length} values`);
    return raw.map((r) => {
      const code = toNumber(r);
      return code === FOREIGN ? foreignRecord() : code;
    });
  },
};

/** The batched calls of one node: same-tick acquires (and releases) share one script call. */
export function nodeCalls(run: RunScript, batching: boolean) {
  return {
    acquire: new Batcher(acquireKind, run, batching),
    release: new Batcher(releaseKind, run, batching),
  };
}
