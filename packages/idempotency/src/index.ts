export type { Handler, HandlerContext } from './attempt.js';
export type { ListenClient, PoolLike, Queryable } from './db.js';
export { defaults } from './defaults.js';
export {
  ConfigError,
  IdempotencyError,
  IdempotencyInProgressError,
  IdempotencyKeyReusedError,
  IdempotencyLeaseLostError,
  IdempotencyStoreUnavailableError,
  InvalidIdempotencyKeyError,
  InvalidRequestError,
  InvalidResponseError,
  isConfigError,
  isIdempotencyError,
  isIdempotencyInProgressError,
  isIdempotencyKeyReusedError,
  isIdempotencyLeaseLostError,
  isIdempotencyStoreUnavailableError,
  isInvalidIdempotencyKeyError,
  isInvalidRequestError,
  isInvalidResponseError,
  isResponseTooLargeError,
  isStaleFenceError,
  ResponseTooLargeError,
  StaleFenceError,
} from './errors.js';
export type { IdempotencyEventName, IdempotencyEvents, Unsubscribe } from './events.js';
export { canonicalJson, FINGERPRINT_VERSION } from './json.js';
export { idempotencyKey, isValidIdempotencyKey, type OperationIdentity } from './key.js';
export type { IdempotencyStoreOptions, LocalCacheOptions, Logger } from './options.js';
export type { IdempotentResponse } from './response.js';
export { type ExecuteOptions, type ExecuteResult, IdempotencyStore } from './store.js';
export type { SweepOptions, SweepResult } from './sweeper.js';
