import type { CheckpointSchema } from './schema/define-schema.js';

/** A pino-compatible logger (pino, console-like wrappers); every method optional to call with an object. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** What `save()` takes besides the session id. */
export interface SaveInput<I = Record<string, unknown>> {
  /** Region (or pod) that writes, e.g. `eu-west-1`; kept for audit and handoff decisions. */
  region: string;
  /** Version of the Architect/Studio flow that produced the variables. */
  flowVersion: string | number;
  /**
   * Caller's id for this checkpoint (e.g. `chk_1715788320`); a random `chk_<uuid>` when omitted. A save
   * with the id and content of the session's latest checkpoint is taken as that save sent again.
   */
  checkpointId?: string;
  variables: I;
  /** Compare-and-set: the revision the caller last read (0: the session must have no checkpoint). */
  expectedRevision?: number;
  /** Fencing token (e.g. `lock.fence` from @cxkit/locks): rejected when lower than the highest seen. */
  fence?: number;
}

/** What `save()` resolves to. */
export interface SaveResult {
  /** Per-session counter: 1 for the first checkpoint, +1 for each save. */
  revision: number;
  checkpointId: string;
  /** Server time (Redis `TIME` / Postgres `now()`) of the write. */
  savedAt: Date;
}

/** A stored checkpoint as read back. */
export interface Checkpoint<V = Record<string, unknown>> {
  sessionId: string;
  revision: number;
  checkpointId: string;
  savedAt: Date;
  region: string;
  flowVersion: string | number;
  /** Schema version the variables are in now (after any upcast). */
  schemaVersion: number;
  fence: number | undefined;
  variables: V;
}

/** Why a stored checkpoint cannot be restored. */
export type IncompatibleReason =
  | 'malformed'
  | 'newer-version'
  | 'unknown-version'
  | 'migration-failed'
  | 'invalid';

/**
 * Tagged result of `latest()`: the flow branches on `status` instead of catching. `revision` is what a
 * following `save()` passes as `expectedRevision` (0 when absent).
 */
export type LatestResult<V = Record<string, unknown>> =
  | { status: 'restored'; revision: number; checkpoint: Checkpoint<V> }
  | {
      status: 'migrated';
      revision: number;
      checkpoint: Checkpoint<V>;
      /** Schema version the checkpoint was stored in. */
      fromVersion: number;
      /** Whether the upcast payload replaced the stored one (`writeBackMigrated`). */
      writtenBack: boolean;
    }
  | {
      status: 'absent';
      revision: 0;
      /** The schema's `defaults` (a fresh copy), to start the flow from. */
      variables: V | undefined;
    }
  | {
      status: 'incompatible';
      reason: IncompatibleReason;
      /** Human-readable detail (parse error, failing fields, versions). */
      detail: string;
      revision: number;
      /** Schema version found in the stored payload, when it could be read. */
      storedVersion: number | undefined;
      /** Whether the raw payload was copied aside (`onUnknownVersion: 'quarantine'`). */
      quarantined: boolean;
      variables: V | undefined;
    };

/** A quarantined payload kept for audit. */
export interface QuarantinedCheckpoint {
  reason: IncompatibleReason;
  detail: string;
  /** The stored payload exactly as found. */
  raw: string;
  quarantinedAt: Date;
}

/** Settings the shared store logic needs, already validated by the concrete store. */
export interface StoreSettings {
  schema: CheckpointSchema<unknown, unknown>;
  history: number;
  maxBytes: number;
  maxSessionIdLength: number;
  writeBackMigrated: boolean;
  logger?: Logger | undefined;
}

/** Entries of `history()`: every stored checkpoint decoded like `latest()`, without side effects. */
export type HistoryEntry<V> = Exclude<LatestResult<V>, { status: 'absent' }>;
