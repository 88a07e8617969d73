/** Emitted when a node is seen with a data marker younger than the guard window. */
export interface NodeRecoveringEvent {
  node: string;
  epoch: string;
  /** The marker this manager saw on the node before, if any (a change means it restarted empty). */
  previousEpoch: string | undefined;
  /** Local time (ms since epoch) from which the node's votes count again. */
  trustedFrom: number;
}

interface NodeState {
  epoch: string;
  /** Monotonic time (`performance.now()`) from which the node is expected to be trusted (wave choice). */
  trustedFromMono: number;
}

/**
 * Amnesia guard. A Redis node without persistence forgets every lock when it restarts. Each script
 * creates a marker (named by the node's TIME) on first use after a start and returns it with its age,
 * so a node that came back empty is recognised in the same round trip. Its votes are ignored until the
 * longest TTL it may have forgotten (`windowMs`) has passed since the marker was created. Whether a vote
 * counts is judged by the marker age the node reports with it (its own clock): a step of the client's
 * wall clock (NTP, a resumed VM) can never make a recovering node count early; once a marker was seen
 * young, the client's monotonic clock must agree too, so a step of the node's clock cannot either.
 */
export class AmnesiaGuard {
  readonly #nodes = new Map<number, NodeState>();

  constructor(
    readonly enabled: boolean,
    private readonly windowMs: number,
    private readonly labels: readonly string[],
    private readonly onRecovering: (event: NodeRecoveringEvent) => void,
  ) {}

  /** Script argument: '1' when scripts should read (and create) the node's marker. */
  get flag(): '1' | '0' {
    return this.enabled ? '1' : '0';
  }

  /** Records what a script returned for node `index`; true when the node's votes count now. */
  observe(index: number, epoch: unknown, ageMs: unknown): boolean {
    if (!this.enabled) return true;
    const id = String(epoch);
    const age = Number(ageMs);
    // An unreadable age counts as a fresh marker: untrusted for the whole window.
    const left = Math.max(0, this.windowMs - (Number.isFinite(age) ? age : 0));
    const now = performance.now();
    const before = this.#nodes.get(index);
    // For a marker seen before, this manager's own clock also has to agree: a node whose clock steps
    // forward (NTP after a restart) makes its marker look old, but does not count before its window
    // has passed here too.
    const from = before?.epoch === id ? Math.max(before.trustedFromMono, now + left) : now + left;
    this.#nodes.set(index, { epoch: id, trustedFromMono: from });
    if (now >= from) return true;
    if (!before || before.epoch !== id) {
      this.onRecovering({
        node: this.labels[index] ?? `node${index}`,
        epoch: id,
        previousEpoch: before?.epoch,
        trustedFrom: Date.now() + (from - now),
      });
    }
    return false;
  }

  /** True when node `index` was seen and is expected to count now (always, with the guard off). */
  trustedNow(index: number): boolean {
    if (!this.enabled) return true;
    const s = this.#nodes.get(index);
    return s !== undefined && performance.now() >= s.trustedFromMono;
  }

  /** Last known state of node `index` (for `inspect()`). */
  state(index: number): { epoch: string | undefined; trustedFrom: number | undefined } {
    const s = this.#nodes.get(index);
    const left = s ? s.trustedFromMono - performance.now() : 0;
    return { epoch: s?.epoch, trustedFrom: left > 0 ? Date.now() + left : undefined };
  }
}
