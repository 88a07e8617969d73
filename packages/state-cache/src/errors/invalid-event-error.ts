import { codeGuard, StateCacheError } from './state-cache-error.js';

/** An event failed validation; nothing of its batch was written. */
export class InvalidEventError extends StateCacheError {
  override readonly name = 'InvalidEventError';
  /** Position of the first bad event in the batch. */
  readonly index: number;
  readonly key: unknown;
  /** Schema issues, when the value failed the schema. */
  readonly issues: unknown;

  constructor(index: number, key: unknown, reason: string, issues?: unknown) {
    super('STATE_EVENT_INVALID', `event #${index} (key ${JSON.stringify(key)}): ${reason}`, {
      status: 422,
      cause: issues,
    });
    this.index = index;
    this.key = key;
    this.issues = issues;
  }
}

export const isInvalidEventError = codeGuard('STATE_EVENT_INVALID') as (
  err: unknown,
) => err is InvalidEventError;
