import { InvalidSessionIdError } from './errors.js';

/** Throws `InvalidSessionIdError` unless `id` is a non-empty string of at most `maxLength` characters. */
export function assertSessionId(id: unknown, maxLength: number): asserts id is string {
  if (typeof id !== 'string') throw new InvalidSessionIdError(`expected a string, got ${typeof id}`);
  if (id.length === 0) throw new InvalidSessionIdError('empty');
  if (id.length > maxLength) {
    throw new InvalidSessionIdError(`${id.length} characters, more than maxSessionIdLength ${maxLength}`);
  }
  // Control characters in keys break log lines and redis-cli output; ids come from platforms as text.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting them is the point
  if (/[\u0000-\u001f\u007f]/.test(id)) throw new InvalidSessionIdError('contains control characters');
}
