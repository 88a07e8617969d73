/** One sample of one candidate: a number in the scenario's unit. */
export type Sample<Ctx> = (ctx: Ctx) => Promise<number>;

export interface Scenario<Ctx> {
  /** Row label, e.g. `acquire+release p50, concurrency 1`. */
  name: string;
  /** Unit of every sample, e.g. `ops/s` or `ms`. */
  unit: string;
  /** Whether a larger sample is better (throughput) or worse (latency). */
  better: 'higher' | 'lower';
  /** Candidate whose median the others are compared with (usually the cxkit one). */
  baseline: string;
  candidates: Record<string, Sample<Ctx>>;
  /** Why a candidate that is listed in the issue does not run (printed instead of numbers). */
  skipped?: Record<string, string>;
}

export interface Bench<Ctx> {
  /** Section title in BENCHMARKS.md. */
  title: string;
  /** Text printed under the title: what is measured and against what. */
  description?: string;
  setup(): Promise<Ctx>;
  teardown(ctx: Ctx): Promise<void>;
  scenarios: Scenario<Ctx>[];
  /** Interleaved rounds per scenario (A B A B ...). @default 5 */
  rounds?: number;
}

/** Declares a benchmark file's content (identity function for type inference). */
export function defineBench<Ctx>(bench: Bench<Ctx>): Bench<Ctx> {
  return bench;
}
