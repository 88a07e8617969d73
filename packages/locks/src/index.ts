export type { NodeRecoveringEvent } from './amnesia.js';
export type { LockNodes, RedisClient, RedisClusterClient, Topology } from './client.js';
export { defaults } from './defaults.js';
export type { Election, ElectOptions } from './elect.js';
export {
  AcquireTimeoutError,
  ConfigError,
  isAcquireTimeoutError,
  isConfigError,
  isLockConflictError,
  isLockError,
  isLockLimitError,
  isLockLostError,
  isQuorumUnavailableError,
  LockConflictError,
  LockError,
  LockLimitError,
  LockLostError,
  type LostReason,
  QuorumUnavailableError,
} from './errors.js';
export { DIAGNOSTICS_CHANNEL_PREFIX, type LockEvents, type Unsubscribe } from './events.js';
export type { Lock } from './lock.js';
export { LockManager } from './manager.js';
export type { LockManagerOptions, RetryOptions } from './options.js';
export type { Semaphore } from './semaphore.js';
export type {
  AcquireOptions,
  HolderInfo,
  Inspection,
  Logger,
  NodeOutcome,
  NodeView,
  Outcome,
  ReleaseResult,
} from './types.js';
