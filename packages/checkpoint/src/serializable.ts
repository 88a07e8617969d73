import { jsonProblem } from '@cxkit/internal';
import { NotSerializableError } from './errors.js';

/**
 * Throws `NotSerializableError` for anything JSON would drop, mangle or refuse (see `jsonProblem`), so
 * what a flow restores is exactly what it saved.
 */
export function assertSerializable(value: unknown): void {
  const problem = jsonProblem(value);
  if (problem) throw new NotSerializableError(problem.path, problem.reason);
}
