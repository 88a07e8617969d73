import { InvalidEventError } from './errors/invalid-event-error.js';
import type { StateEvent, ValueSchema } from './types.js';

/** An event checked and serialized, ready for the apply script. */
export interface EncodedEvent {
  key: string;
  version: number;
  type: 'C' | 'U' | 'D';
  json: string;
}

const TYPES = { CREATED: 'C', UPDATED: 'U', DELETED: 'D' } as const;

/** With the `u` flag, `\p{Surrogate}` matches only surrogates that are not part of a pair. */
const LONE_SURROGATE = /\p{Surrogate}/u;

/** Why `key` cannot be a state key, or undefined when it can. */
export function keyProblem(key: unknown, maxKeyLength: number): string | undefined {
  if (typeof key !== 'string' || key.length === 0) return 'key must be a non-empty string';
  if (key.length > maxKeyLength) return `key longer than ${maxKeyLength} characters`;
  // Redis stores UTF-8, where a lone surrogate becomes U+FFFD: the stored key would differ from the
  // one invalidations and the near cache use, and distinct bad keys would collapse onto one.
  if (LONE_SURROGATE.test(key)) return 'key is not well-formed UTF-16 (lone surrogate)';
  return undefined;
}

/**
 * Validates and encodes a whole batch before anything is written: one bad event rejects the batch
 * with an InvalidEventError naming its position, and Redis is not touched.
 */
export function encodeEvents<T>(
  events: readonly StateEvent<T>[],
  schema: ValueSchema<T> | undefined,
  maxKeyLength: number,
): EncodedEvent[] {
  return events.map((event, index) => {
    if (typeof event !== 'object' || event === null)
      throw new InvalidEventError(index, undefined, 'not an object');
    const { key, version, type } = event;
    const problem = keyProblem(key, maxKeyLength);
    if (problem) throw new InvalidEventError(index, key, problem);
    if (!Number.isSafeInteger(version) || version < 0)
      throw new InvalidEventError(index, key, 'version must be a non-negative safe integer');
    const code = TYPES[type as keyof typeof TYPES];
    if (!code)
      throw new InvalidEventError(
        index,
        key,
        `type must be CREATED, UPDATED or DELETED, got ${String(type)}`,
      );
    if (code === 'D') return { key, version, type: code, json: '' };
    if (event.value === undefined) throw new InvalidEventError(index, key, `${type} needs a value`);
    let value: unknown = event.value;
    if (schema) {
      const parsed = schema.safeParse(value);
      if (!parsed.success) throw new InvalidEventError(index, key, 'value failed the schema', parsed.error);
      value = parsed.data;
    }
    let json: string | undefined;
    try {
      json = JSON.stringify(value);
    } catch (err) {
      throw new InvalidEventError(index, key, 'value is not JSON-serializable', err);
    }
    if (json === undefined) throw new InvalidEventError(index, key, 'value is not JSON-serializable');
    return { key, version, type: code, json };
  });
}
