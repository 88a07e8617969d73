import { ConfigError } from './errors.js';

/** Validates a lock fence (number, bigint or decimal string) and returns it as text for bigint columns. */
export function normalizeFence(fence: number | bigint | string | undefined): string | null {
  if (fence === undefined) return null;
  const text = typeof fence === 'string' ? fence : String(fence);
  if (!/^\d{1,19}$/.test(text) || BigInt(text) > 9_223_372_036_854_775_807n) {
    throw new ConfigError('fence', 'expected a non-negative integer that fits in bigint');
  }
  if (typeof fence === 'number' && !Number.isSafeInteger(fence))
    throw new ConfigError('fence', 'unsafe integer; pass a bigint or string');
  return text;
}

/** Fence comparison in bigint: fences come from Redis counters and may pass 2^53. */
export const lowerFence = (fence: string | null, recorded: string | null) =>
  fence !== null && recorded !== null && BigInt(fence) < BigInt(recorded);
