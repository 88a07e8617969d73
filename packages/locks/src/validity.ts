/** The options a lock's validity window depends on. */
export interface Timing {
  readonly staleAfterMs: number;
  readonly driftFactor: number;
  readonly heartbeatIntervalMs: number;
  readonly requestTimeoutMs: number;
}

/** The TTL that validity is computed from: a lock is only as valid as its heartbeat is fresh. */
export function effectiveTtlOf(o: Timing, ttlMs: number): number {
  return Math.min(ttlMs, o.staleAfterMs);
}

/** Milliseconds of validity to subtract for clock drift over the validity period (Redlock: ttl * driftFactor + 2). */
export function driftOf(o: Timing, ttlMs: number): number {
  return Math.round(effectiveTtlOf(o, ttlMs) * o.driftFactor) + 2;
}

/** How long before its validity ends a lock's signal aborts, so the holder can stop before anyone else may enter. */
export function signalMarginOf(o: Timing, ttlMs: number): number {
  return Math.max(1, Math.min(Math.round(effectiveTtlOf(o, ttlMs) * 0.1), o.heartbeatIntervalMs / 2));
}

/** How long after its grant a lock that was never extended aborts its signal. */
export function abortsAfterMs(o: Timing, ttlMs: number): number {
  return effectiveTtlOf(o, ttlMs) - driftOf(o, ttlMs) - signalMarginOf(o, ttlMs);
}

/**
 * What a heartbeating lock's first extension needs: up to one interval until the shared heartbeat
 * ticks, then its reply (allowed half an interval, at most `requestTimeoutMs`).
 */
export function firstHeartbeatMs(o: Timing): number {
  return o.heartbeatIntervalMs + Math.min(o.requestTimeoutMs, o.heartbeatIntervalMs / 2);
}

/**
 * The shortest TTL whose lock outlives its first heartbeat (undefined: none, even `staleAfterMs` is too
 * short). `abortsAfterMs` never decreases as the TTL grows, so a binary search finds it.
 */
export function minHeartbeatTtlOf(o: Timing, maxTtlMs: number): number | undefined {
  const need = firstHeartbeatMs(o);
  if (abortsAfterMs(o, maxTtlMs) < need) return undefined;
  let lo = 1;
  let hi = maxTtlMs;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (abortsAfterMs(o, mid) >= need) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
