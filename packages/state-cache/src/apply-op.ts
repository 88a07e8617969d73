import type { KeySpace } from './keys.js';
import { type Reply, runBatch, type ScriptName } from './scripts.js';
import type { ApplyResult, StateCacheRedis } from './types.js';
import type { EncodedEvent } from './validate.js';

/** What one apply round trip reports, beyond per-event outcomes. */
export interface ApplyOutcome {
  results: ApplyResult[];
  /** Partitions whose generation marker is missing (Redis lost or never had its data). */
  unmarked: number[];
  /** Applied events with the bus sequence they were published under, for the writer's own near cache. */
  applied: { index: number; partition: number; seq: number }[];
}

/**
 * Groups events by partition (one slot each), splits groups into script calls of at most `perScript`
 * events, and sends every call in one round trip. Order within a partition is preserved.
 */
export async function applyEncoded(
  redis: StateCacheRedis,
  keys: KeySpace,
  writerId: string,
  tombstoneTtlMs: number,
  perScript: number,
  events: EncodedEvent[],
): Promise<ApplyOutcome> {
  const groups = new Map<number, number[]>();
  events.forEach((e, i) => {
    const p = keys.partitionOf(e.key);
    const g = groups.get(p);
    if (g) g.push(i);
    else groups.set(p, [i]);
  });
  const calls: { name: ScriptName; args: (string | number)[]; partition: number; indexes: number[] }[] = [];
  for (const [p, indexes] of groups) {
    const k = keys.keysOf(p);
    for (let start = 0; start < indexes.length; start += perScript) {
      const chunk = indexes.slice(start, start + perScript);
      const args: (string | number)[] = [k.data, k.tombstones, k.expiries, k.meta, keys.channel, p, writerId];
      args.push(tombstoneTtlMs, chunk.length);
      for (const i of chunk) {
        const e = events[i]!;
        args.push(e.key, e.version, e.type, e.json);
      }
      calls.push({ name: 'cxkit_sc_v1_apply', args, partition: p, indexes: chunk });
    }
  }
  const replies = await runBatch(redis, calls);
  const results = new Array<ApplyResult>(events.length);
  const unmarked = new Set<number>();
  const applied: ApplyOutcome['applied'] = [];
  calls.forEach((call, c) => {
    const reply = replies[c] as Reply[];
    if (!reply[0]) unmarked.add(call.partition);
    const seq = Number(reply[1]);
    call.indexes.forEach((i, j) => {
      const ok = Number(reply[2 + j * 2]) === 1;
      const e = events[i]!;
      results[i] = {
        key: e.key,
        version: e.version,
        outcome: ok ? 'applied' : 'ignored',
        storedVersion: Number(reply[3 + j * 2]),
      };
      if (ok) applied.push({ index: i, partition: call.partition, seq });
    });
  });
  return { results, unmarked: [...unmarked], applied };
}
