import type { z } from 'zod';
import { validationProblem } from './problem.js';

/** Parses one part of a request or throws a 400 problem naming every bad field; nothing runs before it. */
export function parse<S extends z.ZodType>(
  schema: S,
  value: unknown,
  where: 'body' | 'params' | 'headers' | 'query',
): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw validationProblem(result.error, where);
  return result.data;
}
