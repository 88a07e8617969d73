import { Emitter } from '@cxkit/internal';
import {
  type CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleWhen,
  isBrokenCircuitError,
  isIsolatedCircuitError,
} from 'cockatiel';
import pRetry, { AbortError } from 'p-retry';
import { z } from 'zod';
import { defaults } from './defaults.js';
import { BreakerOpenError, RetryBudgetExhaustedError } from './errors.js';
import { parseWith } from './options.js';
import { RetryBudget } from './retry-budget.js';
import type { Logger, Unsubscribe } from './types.js';

export type BreakerState = 'closed' | 'open' | 'half-open' | 'isolated';

const STATE: Record<CircuitState, BreakerState> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'isolated',
};

export function breakerState(policy: CircuitBreakerPolicy): BreakerState {
  return STATE[policy.state];
}

const schema = z
  .object({
    name: z.string().min(1).default('dependency'),
    consecutiveFailures: z.number().int().positive().default(defaults.breakerConsecutiveFailures),
    halfOpenAfterMs: z.number().int().positive().default(defaults.halfOpenAfterMs),
    retries: z.number().int().min(0).max(10).default(defaults.retries),
    retryMinTimeoutMs: z.number().int().min(0).default(defaults.retryMinTimeoutMs),
    retryMaxTimeoutMs: z.number().int().min(0).default(defaults.retryMaxTimeoutMs),
    budget: z.instanceof(RetryBudget).optional(),
    isFailure: z.custom<(err: unknown) => boolean>((v) => typeof v === 'function').optional(),
    logger: z.custom<Logger>((v) => typeof v === 'object' && v !== null).optional(),
  })
  .strict();

export type DependencyBreakerOptions = z.input<typeof schema>;

export interface DependencyBreakerEvents {
  state: { breaker: string; from: BreakerState; to: BreakerState };
}

/**
 * A cockatiel circuit breaker (consecutive failures, half-open after a delay) with p-retry retries
 * outside it: full jitter, a shared `RetryBudget`, and never a retry while the breaker is open.
 */
export class DependencyBreaker {
  readonly name: string;
  /** The underlying cockatiel policy (for `breakerCheck`, `toJSON()`, `isolate()`). */
  readonly policy: CircuitBreakerPolicy;
  readonly budget: RetryBudget;
  readonly #o: z.output<typeof schema>;
  readonly #events: Emitter<DependencyBreakerEvents>;
  #state: BreakerState = 'closed';

  constructor(options: DependencyBreakerOptions = {}) {
    this.#o = parseWith(schema, options, 'dependencyBreaker');
    this.name = this.#o.name;
    this.budget = this.#o.budget ?? new RetryBudget();
    this.#events = new Emitter({
      onListenerError: (err) => this.#o.logger?.error?.({ err }, 'breaker: listener threw'),
    });
    const isFailure = this.#o.isFailure ?? (() => true);
    this.policy = circuitBreaker(handleWhen(isFailure), {
      breaker: new ConsecutiveBreaker(this.#o.consecutiveFailures),
      halfOpenAfter: this.#o.halfOpenAfterMs,
    });
    this.policy.onStateChange((s) => {
      const from = this.#state;
      const to = STATE[s];
      this.#state = to;
      const log = to === 'closed' ? this.#o.logger?.info : this.#o.logger?.warn;
      log?.call(this.#o.logger, { breaker: this.name, from, to }, `breaker ${this.name}: ${to}`);
      this.#events.emit('state', { breaker: this.name, from, to });
    });
  }

  get state(): BreakerState {
    return breakerState(this.policy);
  }

  on<K extends keyof DependencyBreakerEvents>(
    event: K,
    listener: (payload: DependencyBreakerEvents[K]) => void,
  ): Unsubscribe {
    return this.#events.on(event, listener);
  }

  /**
   * Runs `fn` through the breaker, retrying failures with jittered backoff while the breaker is
   * closed and the budget has tokens. An open breaker rejects at once with `BreakerOpenError`
   * without calling `fn`; a spent budget rejects with `RetryBudgetExhaustedError` (cause: the error).
   */
  async execute<T>(fn: (signal: AbortSignal) => Promise<T> | T, signal?: AbortSignal): Promise<T> {
    const isFailure = this.#o.isFailure ?? (() => true);
    this.budget.deposit();
    return pRetry(
      async () => {
        try {
          return await this.policy.execute(({ signal: s }) => fn(s), signal);
        } catch (err) {
          if (isBrokenCircuitError(err) || isIsolatedCircuitError(err)) {
            throw new AbortError(new BreakerOpenError(this.name, err));
          }
          throw err;
        }
      },
      {
        retries: this.#o.retries,
        factor: 2,
        minTimeout: this.#o.retryMinTimeoutMs,
        maxTimeout: this.#o.retryMaxTimeoutMs,
        randomize: true,
        signal,
        shouldRetry: (err) => {
          if (err.retriesLeft <= 0 || !isFailure(err)) return false;
          // The failure that opened the breaker is final: retrying would only hit BreakerOpenError.
          if (this.policy.state !== CircuitState.Closed) return false;
          if (!this.budget.tryWithdraw()) throw new RetryBudgetExhaustedError(err.attemptNumber, err);
          return true;
        },
      },
    );
  }

  /** Holds the breaker open until the returned handle is disposed (e.g. during maintenance). */
  isolate(): { dispose(): void } {
    return this.policy.isolate();
  }
}

/** Creates a `DependencyBreaker` (opens after 3 consecutive failures by default, the seed's rule). */
export function dependencyBreaker(options: DependencyBreakerOptions = {}): DependencyBreaker {
  return new DependencyBreaker(options);
}
