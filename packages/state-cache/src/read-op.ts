import { decodeStored, type KeySpace } from './keys.js';
import { type Reply, runBatch, type ScriptName } from './scripts.js';
import type { StateCacheRedis } from './types.js';

/** A key as Redis holds it. `version` -1 with `tombstone` false: nothing stored. */
export interface RawRead {
  key: string;
  partition: number;
  json: string | undefined;
  version: number;
  tombstone: boolean;
  /** Bus sequence of the partition at the moment of the read. */
  seq: number;
  /** Whether the partition carried its generation marker. */
  marked: boolean;
}

/** Reads many keys in one round trip: one script call per partition touched. */
export async function readKeys(redis: StateCacheRedis, keys: KeySpace, wanted: string[]): Promise<RawRead[]> {
  const groups = new Map<number, string[]>();
  for (const key of wanted) {
    const p = keys.partitionOf(key);
    const g = groups.get(p);
    if (g) g.push(key);
    else groups.set(p, [key]);
  }
  const calls: { name: ScriptName; args: string[]; partition: number; keys: string[] }[] = [];
  for (const [p, ks] of groups) {
    const k = keys.keysOf(p);
    calls.push({
      name: 'cxkit_sc_v2_read',
      args: [k.data, k.tombstones, k.meta, k.expiries, ...ks],
      partition: p,
      keys: ks,
    });
  }
  const replies = await runBatch(redis, calls);
  const out: RawRead[] = [];
  calls.forEach((call, c) => {
    const reply = replies[c] as Reply[];
    const marked = Boolean(reply[0]);
    const seq = Number(reply[1]);
    call.keys.forEach((key, j) => {
      const raw = String(reply[2 + j] ?? '');
      const base = { key, partition: call.partition, seq, marked };
      if (raw === '') out.push({ ...base, json: undefined, version: -1, tombstone: false });
      else if (raw.startsWith('d'))
        out.push({ ...base, json: undefined, version: Number(raw.slice(1)), tombstone: true });
      else {
        const { version, json } = decodeStored(raw);
        out.push({ ...base, json, version, tombstone: false });
      }
    });
  });
  return out;
}
