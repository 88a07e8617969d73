import type { IncompatibleReason } from './types.js';

/** Events a store emits, by name. */
export interface CheckpointEvents {
  saved: { sessionId: string; revision: number; checkpointId: string; savedAt: Date; bytes: number };
  conflict: { sessionId: string; expectedRevision: number; actualRevision: number };
  staleFence: { sessionId: string; fence: number; highestFence: number };
  migrated: {
    sessionId: string;
    revision: number;
    fromVersion: number;
    toVersion: number;
    writtenBack: boolean;
  };
  incompatible: {
    sessionId: string;
    revision: number | undefined;
    reason: IncompatibleReason;
    detail: string;
    quarantined: boolean;
  };
  deleted: { sessionId: string };
}

/** Removes the listener; also usable with `using` (Symbol.dispose). */
export interface Unsubscribe {
  (): void;
  dispose(): void;
  [Symbol.dispose](): void;
}
