// OpenTelemetry spans (optional peer `@opentelemetry/api`). Attributes never carry the key or payloads:
// keys are often derived from session ids, payloads from customer data.
import { createTracing } from '@cxkit/internal';
import type { Span } from '@opentelemetry/api';
import { isIdempotencyError, isIdempotencyInProgressError, isIdempotencyKeyReusedError } from './errors.js';

export const tracing = createTracing('@cxkit/idempotency');

export const SPAN_EXECUTE = 'cxkit.idempotency.execute';
export const SPAN_SWEEP = 'cxkit.idempotency.sweep';

export const ATTR_TABLE = 'cxkit.idempotency.table';
/** `hit | miss | replay | conflict | mismatch`: what this call ended as. */
export const ATTR_OUTCOME = 'cxkit.idempotency.outcome';
/** `lru | postgres | in-flight`: where the answer came from. */
export const ATTR_SOURCE = 'cxkit.idempotency.source';
/** Runs of the key so far, this one included (on a miss: 2+ after a failed or expired run). */
export const ATTR_ATTEMPT = 'cxkit.idempotency.attempt';
/** The response's `status`, or an idempotency error's HTTP status. */
export const ATTR_STATUS = 'cxkit.idempotency.status_code';
export const ATTR_DELETED = 'cxkit.idempotency.deleted';
export const ATTR_BATCHES = 'cxkit.idempotency.batches';

// The LRU paths' attributes, built once rather than per call.
export const LRU_HIT = Object.freeze({ [ATTR_OUTCOME]: 'hit', [ATTR_SOURCE]: 'lru' });
export const LRU_MISMATCH = Object.freeze({ [ATTR_OUTCOME]: 'mismatch', [ATTR_SOURCE]: 'lru' });

/** Adds the call's result to its span: the response status, or the error's outcome and status. */
export function traceResult<T extends { response: unknown }>(span: Span, result: Promise<T>): Promise<T> {
  return result.then(
    (r) => {
      const status = (r.response as { status?: unknown } | null | undefined)?.status;
      if (typeof status === 'number') span.setAttribute(ATTR_STATUS, status);
      return r;
    },
    (err: unknown) => {
      if (isIdempotencyInProgressError(err)) span.setAttribute(ATTR_OUTCOME, 'conflict');
      else if (isIdempotencyKeyReusedError(err)) span.setAttribute(ATTR_OUTCOME, 'mismatch');
      if (isIdempotencyError(err)) span.setAttribute(ATTR_STATUS, err.status);
      throw err;
    },
  );
}
