export { defaults } from './defaults.js';
export {
  CheckpointError,
  type CheckpointErrorCode,
  CheckpointTooLargeError,
  CheckpointValidationError,
  ConfigError,
  type FieldIssue,
  InvalidSessionIdError,
  isCheckpointError,
  isCheckpointTooLargeError,
  isCheckpointValidationError,
  isConfigError,
  isInvalidSessionIdError,
  isNotSerializableError,
  isRevisionConflictError,
  isStaleFenceError,
  NotSerializableError,
  RevisionConflictError,
  StaleFenceError,
} from './errors.js';
export type { CheckpointEvents, Unsubscribe } from './events.js';
export type { CommonCheckpointOptions } from './options.js';
export type { QueryableLike } from './postgres/postgres-backend.js';
export {
  PostgresCheckpointStore,
  type PostgresCheckpointStoreOptions,
} from './postgres/postgres-store.js';
export type { RedisClientLike } from './redis/client.js';
export { CheckpointStore, type CheckpointStoreOptions } from './redis/redis-store.js';
export {
  type CheckpointSchema,
  type CheckpointSchemaOptions,
  defineCheckpointSchema,
  type Migration,
  type UnknownVersionPolicy,
} from './schema/define-schema.js';
export { type MappingTable, mappingTableSchema } from './schema/mapping.js';
export type { BaseCheckpointStore } from './store.js';
export type {
  Checkpoint,
  HistoryEntry,
  IncompatibleReason,
  LatestResult,
  Logger,
  QuarantinedCheckpoint,
  SaveInput,
  SaveResult,
} from './types.js';
