import { type DedupCore, decodeResult } from './core.js';
import { DedupMisconfiguredError } from './errors/index.js';
import { runScript } from './scripts.js';

/** A record as Redis holds it now, read without claiming. */
export type RecordState =
  | { state: 'absent'; id: string }
  /** `leaseRemainingMs <= 0`: the winner stopped heartbeating; the next claim takes it over. */
  | { state: 'in-progress'; id: string; owner: string; leaseRemainingMs: number }
  | { state: 'done'; id: string; owner: string; completedAt: number; result?: unknown };

/** Reads one record's state (server time decides the remaining lease). */
export async function inspectRecord(core: DedupCore, id: string): Promise<RecordState> {
  const reply = await runScript(core.redis, 'peek', core.keys.key(id), []);
  if (!Array.isArray(reply)) {
    throw new DedupMisconfiguredError(
      'script-reply',
      `the peek script answered ${String(reply).slice(0, 80)}`,
    );
  }
  const [tag, owner, n, raw] = reply as [unknown, unknown, unknown, unknown];
  if (tag === 0) return { state: 'absent', id };
  if (tag === 2 && typeof owner === 'string' && typeof n === 'number') {
    return { state: 'in-progress', id, owner, leaseRemainingMs: n };
  }
  if (tag === 3 && typeof owner === 'string' && typeof n === 'number') {
    const result = decodeResult(raw);
    return { state: 'done', id, owner, completedAt: n, ...(result === undefined ? {} : { result }) };
  }
  throw new DedupMisconfiguredError(
    'script-reply',
    `the peek script answered ${JSON.stringify(reply).slice(0, 80)}`,
  );
}
