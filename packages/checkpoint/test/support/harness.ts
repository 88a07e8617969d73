import type { BaseCheckpointStore, CheckpointSchema, CommonCheckpointOptions } from '../../src/index.js';

/** Options every backend accepts (the store-specific client option is added by the harness). */
export type CommonStoreOptions = Omit<CommonCheckpointOptions<unknown, unknown>, 'schema'>;

/** What the conformance suite needs from one backend/topology. */
export interface Harness {
  store<V, I>(schema: CheckpointSchema<V, I>, options?: CommonStoreOptions): BaseCheckpointStore<V, I>;
  /** The same store on a second, independent connection (another pod or region). */
  otherStore<V, I>(schema: CheckpointSchema<V, I>, options?: CommonStoreOptions): BaseCheckpointStore<V, I>;
  /** Replaces the latest stored payload byte for byte (simulates a foreign or broken writer). */
  corrupt(sessionId: string, raw: string): Promise<void>;
  /** The latest stored payload exactly as stored. */
  rawLatest(sessionId: string): Promise<string | undefined>;
}
