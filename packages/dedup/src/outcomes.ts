import type { DedupCore } from './core.js';
import { decodeResult } from './core.js';
import { DedupMisconfiguredError } from './errors/index.js';
import { Lease } from './lease.js';

/** Result of `claim(id)` / each entry of `claimMany(ids)`. */
export type ClaimOutcome =
  /** This caller won: it holds a processing lease and must `complete()` or `release()` it. */
  | { outcome: 'claimed'; id: string; lease: Lease }
  /** Another claimer (or this one) is processing it under a live lease. */
  | { outcome: 'in-progress'; id: string; owner: string; leaseRemainingMs: number }
  /** Processed within the window; `result` is the JSON round-trip of what the winner's handler returned. */
  | { outcome: 'done'; id: string; owner: string; completedAt: number; result?: unknown };

const bad = (detail: string) =>
  new DedupMisconfiguredError('script-reply', `the claim script answered ${detail}; is this a real Redis?`);

/**
 * Turns one claim-script reply entry into an outcome, counting and emitting as it goes.
 * `sentAt` is the local time the request left, from which the winner's heartbeat proves its lease.
 */
export function toOutcome(core: DedupCore, id: string, reply: unknown, sentAt: number): ClaimOutcome {
  // A per-key error entry of the batch script (e.g. WRONGTYPE): Redis's own error, as claim() would throw.
  if (reply instanceof Error) throw reply;
  if (!Array.isArray(reply)) throw bad(JSON.stringify(reply)?.slice(0, 80) ?? String(reply));
  const [tag, a, b, c, d] = reply as [unknown, unknown, unknown, unknown, unknown];
  if (tag === 1 && typeof a === 'string' && typeof b === 'number' && typeof c === 'number') {
    const previousOwner = typeof d === 'string' ? d : undefined;
    const lease = new Lease(core, id, a, { expiresAt: b, serverNow: c, sentAt, previousOwner });
    core.stats.claimed++;
    if (previousOwner !== undefined) {
      core.stats.takeovers++;
      core.stats.leaseExpired++;
      core.events.emit('lease-expired', { id, owner: previousOwner, detectedBy: 'takeover' });
    }
    if (core.events.has('claimed')) {
      core.events.emit('claimed', {
        id,
        owner: core.options.owner,
        ...(previousOwner === undefined ? {} : { previousOwner }),
      });
    }
    return { outcome: 'claimed', id, lease };
  }
  if (tag === 2 && typeof a === 'string' && typeof b === 'number') {
    core.stats.duplicatesInProgress++;
    if (core.events.has('duplicate')) core.events.emit('duplicate', { id, state: 'in-progress', owner: a });
    return { outcome: 'in-progress', id, owner: a, leaseRemainingMs: b };
  }
  if (tag === 3 && typeof a === 'string' && typeof b === 'number') {
    core.stats.duplicatesDone++;
    if (core.events.has('duplicate')) core.events.emit('duplicate', { id, state: 'done', owner: a });
    const result = decodeResult(c);
    return { outcome: 'done', id, owner: a, completedAt: b, ...(result === undefined ? {} : { result }) };
  }
  throw bad(`an unexpected entry ${JSON.stringify(reply).slice(0, 80)}`);
}
