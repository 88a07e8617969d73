import { z } from 'zod';
import { defaults } from './defaults.js';
import { InvalidIdempotencyKeyError } from './errors.js';
import { canonicalJson, sha256Hex } from './json.js';

// Visible ASCII only: keys travel in HTTP headers and log lines, so no spaces or control characters.
const KEY_CHARS = /^[\x21-\x7e]+$/;

/** Throws `InvalidIdempotencyKeyError` unless `key` is 1..255 visible ASCII characters. */
export function assertValidKey(
  key: unknown,
  maxLength: number = defaults.maxKeyLength,
): asserts key is string {
  if (typeof key !== 'string') throw new InvalidIdempotencyKeyError(`expected a string, got ${typeof key}`);
  if (key.length === 0) throw new InvalidIdempotencyKeyError('empty');
  if (key.length > maxLength)
    throw new InvalidIdempotencyKeyError(`${key.length} characters, at most ${maxLength}`);
  if (!KEY_CHARS.test(key))
    throw new InvalidIdempotencyKeyError('only visible ASCII characters (0x21-0x7e) are allowed');
}

/** Whether `key` would be accepted by `execute`. */
export function isValidIdempotencyKey(key: unknown): key is string {
  try {
    assertValidKey(key);
    return true;
  } catch {
    return false;
  }
}

const identity = z.object({
  sessionId: z.string().min(1),
  operation: z.string().min(1),
  at: z.union([z.date(), z.number(), z.string()]),
});

export interface OperationIdentity {
  sessionId: string;
  operation: string;
  /**
   * When the operation happened; truncated to the second, so retries within that second share a key.
   * A string must be ISO 8601 with `Z` or an explicit offset.
   */
  at: Date | number | string;
}

/**
 * The seed's deterministic key: `sha256:` + hex of the operation identity, timestamp truncated to the
 * second. The same session, operation and second always give the same key on every pod and region.
 */
export function idempotencyKey(input: OperationIdentity): string {
  const parsed = identity.safeParse(input);
  if (!parsed.success) {
    const field = parsed.error.issues[0]?.path.join('.') || 'input';
    throw new InvalidIdempotencyKeyError(`${field}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  }
  const { sessionId, operation, at } = parsed.data;
  const ms = at instanceof Date ? at.getTime() : typeof at === 'number' ? at : isoTime(at);
  if (!Number.isFinite(ms)) throw new InvalidIdempotencyKeyError('at: not a valid time');
  const text = canonicalJson({ at: Math.floor(ms / 1000), operation, sessionId }) as string;
  return `sha256:${sha256Hex(text)}`;
}

// Date-time with seconds optional, any fraction, and a required zone: Z or ±HH:MM (RFC 3339 style).
const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(?:(Z)|([+-])(\d{2}):(\d{2}))$/;

/**
 * Epoch ms of an ISO 8601 time with `Z` or an explicit offset. Not Date.parse: it reads a time without
 * an offset in the host's zone (pods in different zones would derive different keys), accepts other
 * formats and rolls impossible dates over (30 February becomes 2 March).
 */
function isoTime(text: string): number {
  const m = ISO_TIME.exec(text);
  const bad = () =>
    new InvalidIdempotencyKeyError(
      `at: expected an ISO 8601 time with Z or an explicit offset (2025-06-03T14:21:07.412Z), got "${text.slice(0, 40)}"`,
    );
  if (!m) throw bad();
  const n = (i: number) => Number(m[i] ?? 0);
  const [month, date, hour, minute, second, offH, offM] = [n(2) - 1, n(3), n(4), n(5), n(6), n(10), n(11)];
  const day = new Date(Date.UTC(n(1), month, date));
  if (day.getUTCMonth() !== month || day.getUTCDate() !== date) throw bad();
  if (hour > 23 || minute > 59 || second > 59 || offH > 23 || offM > 59) throw bad();
  const fraction = Number((m[7] ?? '').padEnd(3, '0').slice(0, 3));
  const offset = (m[9] === '-' ? -1 : 1) * (offH * 60 + offM) * 60_000;
  return day.getTime() + ((hour * 60 + minute) * 60 + second) * 1000 + fraction - offset;
}
