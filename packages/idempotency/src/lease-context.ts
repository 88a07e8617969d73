import type { HandlerContext } from './attempt.js';
import { IdempotencyLeaseLostError } from './errors.js';

/**
 * The context a claimed run's handler gets. Its lease signal (and the timer behind it) is built only
 * when the handler reads `signal`: most handlers never do, and an AbortController, AbortSignal.any and
 * a timer per call are a visible share of a miss's CPU. A class, so no getter closure per call.
 */
export class LeaseContext implements HandlerContext {
  readonly key: string;
  readonly attempt: number;
  /** performance.now() at which the lease runs out. */
  readonly #deadline: number;
  /** The caller's own signal (transactional mode), combined with the lease's. */
  readonly #caller: AbortSignal | undefined;
  #signal: AbortSignal | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(key: string, attempt: number, deadline: number, caller: AbortSignal | undefined) {
    this.key = key;
    this.attempt = attempt;
    this.#deadline = deadline;
    this.#caller = caller;
  }

  get signal(): AbortSignal {
    if (!this.#signal) {
      const lease = new AbortController();
      const expire = () => lease.abort(new IdempotencyLeaseLostError(this.key));
      const left = this.#deadline - performance.now();
      if (left > 0) {
        this.#timer = setTimeout(expire, left);
        this.#timer.unref();
      } else expire();
      this.#signal = this.#caller ? AbortSignal.any([this.#caller, lease.signal]) : lease.signal;
    }
    return this.#signal;
  }

  /** The handler is done: its lease timer (if any) is no longer needed. */
  done(): void {
    clearTimeout(this.#timer);
  }
}
