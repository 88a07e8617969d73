import type { z } from 'zod';
import { validationProblem } from './problem.js';

/**
 * Parses one part of a request or throws a 400 problem naming every bad field; nothing runs before it.
 * `at` locates a nested value in its part (e.g. `['eventBody']`) so field names stay absolute.
 */
export function parse<S extends z.ZodType>(
  schema: S,
  value: unknown,
  where: 'body' | 'params' | 'headers' | 'query',
  at: readonly string[] = [],
): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw validationProblem(result.error, where, at);
  return result.data;
}
