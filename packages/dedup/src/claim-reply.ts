/** Arguments of one multi-id claim script call: token prefix, owner, lease ms, in-progress TTL ms. */
export type ClaimArgs = [prefix: string, owner: string, leaseMs: number, ttlMs: number];

/**
 * Expands the flat reply of `claim-n.lua` into one entry per key, in the shape `claim-1.lua` answers
 * (`toOutcome` decodes both). Token and lease expiry of a won key are what the script stored: it builds
 * them from these same arguments and the `now` it returns. A reply that does not parse exactly (not a
 * real Redis running this script) is handed whole to every key, so each caller is rejected.
 */
export function expandClaimReply(reply: unknown, count: number, args: ClaimArgs): unknown[] {
  const entries = new Array<unknown>(count);
  const bad = () => entries.fill(reply);
  if (!Array.isArray(reply) || typeof reply[0] !== 'number') return bad();
  const [prefix, , leaseMs] = args;
  const now = reply[0];
  let p = 1;
  for (let i = 0; i < count; i++) {
    const tag = reply[p];
    if (tag === 1) {
      entries[i] = [1, `${prefix}:${i + 1}`, now + leaseMs, now, reply[p + 1]];
      p += 2;
    } else if (tag === 2) {
      entries[i] = [2, reply[p + 1], reply[p + 2], now];
      p += 3;
    } else if (tag === 3) {
      entries[i] = [3, reply[p + 1], reply[p + 2], reply[p + 3]];
      p += 4;
    } else if (tag instanceof Error) {
      entries[i] = tag;
      p += 1;
    } else {
      return bad();
    }
  }
  return p === reply.length ? entries : bad();
}
