/** One row of the scenario's summary table. */
export interface StepResult {
  step: string;
  expected: string;
  observed: string;
  /** `skipped` when the environment cannot show it (e.g. Redis from REDIS_NODES cannot be paused). */
  outcome: 'pass' | 'fail' | 'skipped';
}

export function verdict(pass: boolean): 'pass' | 'fail' {
  return pass ? 'pass' : 'fail';
}

export type Log = (line: string) => void;
