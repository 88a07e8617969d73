import type { PreparedSave } from './encode.js';

/** Outcome of the backend's single atomic write. */
export type WriteOutcome =
  | { ok: true; revision: number; savedAtMs: number }
  | { ok: false; kind: 'conflict'; actualRevision: number }
  | { ok: false; kind: 'stale-fence'; highestFence: number; actualRevision: number };

/** A stored payload exactly as found, with the revision the session's counter gives it. */
export interface RawCheckpoint {
  revision: number;
  raw: string;
}

export interface QuarantineEntry {
  revision: number;
  /** JSON of `{ reason, detail, raw, quarantinedAt }`. */
  entry: string;
}

/**
 * What a storage backend does; everything else (validation, decoding, migration, events) is shared,
 * so both backends keep one contract and pass one conformance suite.
 */
export interface CheckpointBackend {
  /** Checks fence and expected revision, bumps the counter, appends, trims, refreshes TTL: atomically. */
  write(sessionId: string, save: PreparedSave): Promise<WriteOutcome>;
  latest(sessionId: string): Promise<RawCheckpoint | undefined>;
  get(sessionId: string, revision: number): Promise<RawCheckpoint | undefined>;
  /** Newest first, at most `limit`, the session's first checkpoint included while it is kept. */
  history(sessionId: string, limit: number): Promise<RawCheckpoint[]>;
  /**
   * Replaces the payload of `revision` with `raw` only while it is still the latest and still exactly
   * `read` (revisions restart at 1 in a new session); false otherwise.
   */
  rewrite(sessionId: string, revision: number, read: string, raw: string): Promise<boolean>;
  /** Keeps an entry aside (idempotent per revision, bounded per session); false when not kept. */
  quarantine(sessionId: string, entry: QuarantineEntry): Promise<boolean>;
  quarantined(sessionId: string): Promise<string[]>;
  /** Removes the session (checkpoints, counter, fence, quarantine); true if anything was there. */
  delete(sessionId: string): Promise<boolean>;
}
