import type { HolderInfo } from './types.js';

const str = (v: unknown) => (v === undefined || v === null || v === false ? '' : String(v));
const num = (v: unknown) => {
  const n = Number(v);
  return Number.isFinite(n) ? n : 0;
};

/** Values per holder in a script reply (`CX_HOLDER` in common.lua). */
export const HOLDER_LENGTH = 10;

/** Reads a holder (`HOLDER_LENGTH` values, in `cx_parse` order) starting at `offset`; `undefined` when absent. */
export function holderAt(reply: readonly unknown[], offset: number): HolderInfo | undefined {
  if (reply.length < offset + HOLDER_LENGTH) return undefined;
  return {
    token: str(reply[offset]),
    region: str(reply[offset + 1]),
    operation: str(reply[offset + 2]),
    correlationId: str(reply[offset + 3]),
    acquiredAt: num(reply[offset + 4]),
    lastHeartbeat: num(reply[offset + 5]),
    fence: num(reply[offset + 6]),
    heartbeatAgeMs: num(reply[offset + 7]),
    ttlLeftMs: num(reply[offset + 8]),
    staleAfterMs: num(reply[offset + 9]),
  };
}

/** Reply of a script as an array (scripts always return tables). */
export function asArray(reply: unknown): unknown[] {
  if (!Array.isArray(reply)) throw new TypeError(`unexpected script reply: ${String(reply)}`);
  return reply;
}

export { num as toNumber, str as toText };

/** The holder most nodes agree on (by token), for error and inspect reports. */
export function majorityHolder(holders: readonly (HolderInfo | undefined)[]): HolderInfo | undefined {
  const counts = new Map<string, { holder: HolderInfo; n: number }>();
  for (const h of holders) {
    if (!h) continue;
    const entry = counts.get(h.token);
    if (entry) entry.n++;
    else counts.set(h.token, { holder: h, n: 1 });
  }
  let best: { holder: HolderInfo; n: number } | undefined;
  for (const entry of counts.values()) if (!best || entry.n > best.n) best = entry;
  return best?.holder;
}
