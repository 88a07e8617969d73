import { ProblemError } from '../../src/http/problem.js';

export function isProblem(err: unknown, status: number): boolean {
  return err instanceof ProblemError && err.status === status;
}
