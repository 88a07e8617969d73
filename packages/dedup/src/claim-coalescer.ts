import calculateSlot from 'cluster-key-slot';
import { claimGroup, claimOne } from './claim-batch.js';
import type { DedupCore } from './core.js';
import { type ClaimOutcome, toOutcome } from './outcomes.js';

/** Most claims one coalesced script call carries, so a burst never becomes one long-running script. */
const MAX_PER_CALL = 1_000;

interface Waiting {
  id: string;
  resolve(outcome: ClaimOutcome): void;
  reject(err: unknown): void;
}

/**
 * Sends the `claim()` calls made in the same tick as one call of the multi-id claim script (one per hash
 * slot on a Cluster), like DataLoader: Redis runs one script instead of one per id and the client encodes
 * one command. Each caller still gets its own outcome, events and errors, exactly as a lone claim would;
 * a tick with a single claim uses the single-id script.
 */
export class ClaimCoalescer {
  #queue: Waiting[] = [];

  constructor(private readonly core: DedupCore) {}

  claim(id: string): Promise<ClaimOutcome> {
    return new Promise((resolve, reject) => {
      // nextTick runs after the current microtasks drain, so every claim of this tick is collected.
      if (this.#queue.push({ id, resolve, reject }) === 1) process.nextTick(this.#flush);
    });
  }

  readonly #flush = (): void => {
    const queue = this.#queue;
    this.#queue = [];
    if (!this.core.redis.isCluster) {
      this.#split(queue);
      return;
    }
    // A multi-key script must stay in one slot; a Cluster with ids spread over slots mostly sends
    // single claims, a namespace with a {hashtag} gets full batches.
    const bySlot = new Map<number, Waiting[]>();
    for (const waiting of queue) {
      const slot = calculateSlot(this.core.keys.wireKey(waiting.id));
      const group = bySlot.get(slot);
      if (group) group.push(waiting);
      else bySlot.set(slot, [waiting]);
    }
    for (const group of bySlot.values()) this.#split(group);
  };

  #split(group: Waiting[]): void {
    if (group.length === 1) {
      this.#sendOne(group[0]!);
      return;
    }
    if (group.length <= MAX_PER_CALL) {
      void this.#send(group);
      return;
    }
    for (let i = 0; i < group.length; i += MAX_PER_CALL) void this.#send(group.slice(i, i + MAX_PER_CALL));
  }

  /** A lone claim: the single-id script, settled without the batch's bookkeeping. */
  #sendOne(waiting: Waiting): void {
    const { core } = this;
    const sentAt = performance.now();
    let reply: Promise<unknown>;
    try {
      reply = claimOne(core, waiting.id);
    } catch (err) {
      waiting.reject(err);
      return;
    }
    reply.then((entry) => {
      try {
        waiting.resolve(toOutcome(core, waiting.id, entry, sentAt));
      } catch (err) {
        waiting.reject(err);
      }
    }, waiting.reject);
  }

  async #send(group: Waiting[]): Promise<void> {
    const { core } = this;
    const sentAt = performance.now();
    let entries: unknown[];
    try {
      entries = await claimGroup(
        core,
        group.map((w) => core.keys.key(w.id)),
      );
    } catch (err) {
      // The script did not run, or its reply is lost: every caller of this call fails, as each would alone.
      for (const waiting of group) waiting.reject(err);
      return;
    }
    for (let i = 0; i < group.length; i++) {
      const waiting = group[i]!;
      try {
        waiting.resolve(toOutcome(core, waiting.id, entries[i], sentAt));
      } catch (err) {
        waiting.reject(err);
      }
    }
  }
}
