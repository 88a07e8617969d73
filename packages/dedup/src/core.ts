import type { Emitter } from '@cxkit/internal';
import type { DedupRedis } from './client.js';
import type { DedupEvents } from './events.js';
import type { Keyspace } from './keys.js';
import type { ResolvedOptions } from './options.js';
import type { DedupStats } from './stats.js';

/** What the deduplicator's parts share: client, keys, options, events and counters. */
export interface DedupCore {
  readonly redis: DedupRedis;
  readonly keys: Keyspace;
  readonly options: ResolvedOptions;
  readonly events: Emitter<DedupEvents>;
  readonly stats: DedupStats;
}

/** Key TTL while in progress: lease plus an equal grace, so the next claimer sees (and reports) a takeover. */
export function inProgressTtlMs(leaseMs: number): number {
  return leaseMs * 2;
}

/** Parses a stored result; results are written by `complete` as JSON, so this only fails on foreign data. */
export function decodeResult(raw: unknown): unknown {
  if (typeof raw !== 'string') return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

/**
 * Aborts as soon as any of the signals aborts (AbortSignal.any is missing before Node 20.3). `dispose()`
 * removes the listeners, so a long-lived caller signal shared by many messages does not collect them.
 */
export function anySignal(signals: (AbortSignal | undefined)[]): { signal: AbortSignal; dispose(): void } {
  const present = signals.filter((s): s is AbortSignal => s !== undefined);
  if (present.length === 1) return { signal: present[0]!, dispose: () => {} };
  const controller = new AbortController();
  const cleanups: (() => void)[] = [];
  for (const s of present) {
    if (s.aborted) {
      controller.abort(s.reason);
      break;
    }
    const onAbort = () => controller.abort(s.reason);
    s.addEventListener('abort', onAbort, { once: true });
    cleanups.push(() => s.removeEventListener('abort', onAbort));
  }
  return {
    signal: controller.signal,
    dispose: () => {
      for (const cleanup of cleanups) cleanup();
    },
  };
}
