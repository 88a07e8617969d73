/**
 * What this manager has seen of each node's answers: a smoothed reply time, and whether it recently
 * failed or kept a round waiting. Used to pick the nodes an acquisition asks first; never for safety.
 */
export class NodeHealth {
  readonly #rttMs: number[];
  readonly #suspectUntil: number[];
  /** Whether a node's latest news was a failure: it has not answered since it last failed or lagged. */
  readonly #down: boolean[];

  constructor(
    nodes: number,
    /** How long a node that failed or lagged is left out of first waves (it may still answer). */
    private readonly suspectMs: number,
  ) {
    this.#rttMs = Array.from({ length: nodes }, () => Number.NaN);
    this.#suspectUntil = Array.from({ length: nodes }, () => 0);
    this.#down = Array.from({ length: nodes }, () => false);
  }

  /** Node `index` answered after `ms`. */
  answered(index: number, ms: number): void {
    const before = this.#rttMs[index]!;
    this.#rttMs[index] = Number.isNaN(before) ? ms : before + (ms - before) * 0.2;
    this.#suspectUntil[index] = 0;
    this.#down[index] = false;
  }

  /** Node `index` failed, timed out or lagged behind the others. */
  failed(index: number): void {
    this.#suspectUntil[index] = performance.now() + this.suspectMs;
    this.#down[index] = true;
  }

  /** True when node `index` has not answered since it last failed or lagged (e.g. it is paused). */
  down(index: number): boolean {
    return this.#down[index]!;
  }

  /** True when node `index` has answered before and has not failed since (or long enough ago). */
  usable(index: number, now: number): boolean {
    return !Number.isNaN(this.#rttMs[index]!) && !this.suspect(index, now);
  }

  /** True while node `index` is left out for having failed or lagged recently. */
  suspect(index: number, now: number): boolean {
    return this.#suspectUntil[index]! > now;
  }

  /** Smoothed reply time of node `index` in ms (NaN before its first answer). */
  rttMs(index: number): number {
    return this.#rttMs[index]!;
  }
}
