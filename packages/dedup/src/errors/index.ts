export { ConfigError, DedupError, type DedupErrorOptions, isConfigError, isDedupError } from './base.js';
export {
  BatchTooLargeError,
  InvalidIdError,
  type InvalidIdReason,
  isBatchTooLargeError,
  isInvalidIdError,
  isResultTooLargeError,
  ResultTooLargeError,
} from './input-errors.js';
export {
  DedupClosedError,
  DedupMisconfiguredError,
  isDedupClosedError,
  isDedupMisconfiguredError,
  isLeaseLostError,
  isTooManyWaitersError,
  isWaitTimeoutError,
  isWinnerFailedError,
  LeaseLostError,
  TooManyWaitersError,
  WaitTimeoutError,
  WinnerFailedError,
  type WinnerFailure,
} from './runtime-errors.js';
