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
  trustedFrom: number;
}

/**
 * Amnesia guard. A Redis node without persistence forgets every lock when it restarts. Each script
 * creates a marker (named by the node's TIME) on first use after a start and returns it with its age,
 * so a node that came back empty is recognised in the same round trip. Its votes are ignored until the
 * longest TTL it may have forgotten (`windowMs`) has passed since the marker was created.
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
    const before = this.#nodes.get(index);
    if (before && before.epoch === id) return Date.now() >= before.trustedFrom;
    const trustedFrom = Date.now() + Math.max(0, this.windowMs - (Number.isFinite(age) ? age : 0));
    this.#nodes.set(index, { epoch: id, trustedFrom });
    if (trustedFrom > Date.now()) {
      this.onRecovering({
        node: this.labels[index] ?? `node${index}`,
        epoch: id,
        previousEpoch: before?.epoch,
        trustedFrom,
      });
      return false;
    }
    return true;
  }

  /** True when node `index` was seen and its votes count now (always, with the guard off). */
  trustedNow(index: number): boolean {
    if (!this.enabled) return true;
    const s = this.#nodes.get(index);
    return s !== undefined && Date.now() >= s.trustedFrom;
  }

  /** Last known state of node `index` (for `inspect()`). */
  state(index: number): { epoch: string | undefined; trustedFrom: number | undefined } {
    const s = this.#nodes.get(index);
    return { epoch: s?.epoch, trustedFrom: s && s.trustedFrom > Date.now() ? s.trustedFrom : undefined };
  }
}
