import { DedupError, type DedupErrorOptions } from './base.js';

export type InvalidIdReason = 'not-a-string' | 'empty' | 'too-long';

/** A message id is empty, not a string or longer than the byte limit; nothing was written. */
export class InvalidIdError extends DedupError {
  /** Position of the offending id in a `claimMany` batch, or 0 for single calls. */
  readonly index: number;
  readonly reason: InvalidIdReason;
  readonly bytes: number;

  constructor(reason: InvalidIdReason, index: number, bytes: number, limit: number) {
    const what =
      reason === 'too-long'
        ? `is ${bytes} bytes, over the ${limit}-byte limit`
        : reason === 'empty'
          ? 'is empty'
          : 'is not a string';
    super('DEDUP_INVALID_ID', 400, `message id${index > 0 ? ` at index ${index}` : ''} ${what}`);
    this.index = index;
    this.reason = reason;
    this.bytes = bytes;
  }
}

export const isInvalidIdError = (value: unknown): value is InvalidIdError => value instanceof InvalidIdError;

/** `claimMany` was given more ids than `maxBatchSize`; nothing was written. */
export class BatchTooLargeError extends DedupError {
  constructor(
    readonly size: number,
    readonly limit: number,
  ) {
    super(
      'DEDUP_BATCH_TOO_LARGE',
      413,
      `claimMany got ${size} ids, over maxBatchSize ${limit}; split the batch`,
    );
  }
}

export const isBatchTooLargeError = (value: unknown): value is BatchTooLargeError =>
  value instanceof BatchTooLargeError;

/**
 * The handler's result does not fit `maxResultBytes` (or is not JSON-serialisable). Checked before any
 * write: no done marker is written and the claim is released, so a redelivery processes the message again.
 */
export class ResultTooLargeError extends DedupError {
  constructor(
    readonly id: string,
    readonly bytes: number,
    readonly limit: number,
    options: DedupErrorOptions = {},
  ) {
    super(
      'DEDUP_RESULT_TOO_LARGE',
      413,
      Number.isFinite(bytes)
        ? `result of "${id}" is ${bytes} bytes as JSON, over maxResultBytes ${limit}; the claim was released`
        : `result of "${id}" cannot be serialised as JSON; the claim was released`,
      options,
    );
  }
}

export const isResultTooLargeError = (value: unknown): value is ResultTooLargeError =>
  value instanceof ResultTooLargeError;
