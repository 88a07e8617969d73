import { z } from 'zod';
import { defaults } from './defaults.js';
import { parseWith } from './options.js';

const schema = z
  .object({
    ratio: z.number().min(0).max(10).default(defaults.retryBudgetRatio),
    minPerSecond: z.number().min(0).default(defaults.retryBudgetMinPerSecond),
    maxTokens: z.number().positive().default(defaults.retryBudgetMaxTokens),
  })
  .strict();

export type RetryBudgetOptions = z.input<typeof schema>;

/**
 * A retry budget shared by several breakers (the token-bucket scheme of Finagle and gRPC): every
 * first attempt deposits `ratio` tokens, every retry spends one, and `minPerSecond` tokens trickle in
 * regardless of traffic. When a dependency fails for everyone at once, retries stop at about
 * `ratio` x the normal load instead of multiplying it (the seed's retry storm).
 */
export class RetryBudget {
  readonly #o: z.output<typeof schema>;
  #tokens: number;
  #at = performance.now();

  constructor(options: RetryBudgetOptions = {}) {
    this.#o = parseWith(schema, options, 'retryBudget');
    this.#tokens = this.#o.maxTokens;
  }

  /** Tokens available now. */
  get available(): number {
    this.#refill();
    return this.#tokens;
  }

  /** Records a first attempt. */
  deposit(): void {
    this.#refill();
    this.#tokens = Math.min(this.#o.maxTokens, this.#tokens + this.#o.ratio);
  }

  /** Takes one token for a retry; false when the budget is spent. */
  tryWithdraw(): boolean {
    this.#refill();
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  #refill(): void {
    const now = performance.now();
    const earned = ((now - this.#at) / 1000) * this.#o.minPerSecond;
    this.#at = now;
    this.#tokens = Math.min(this.#o.maxTokens, this.#tokens + earned);
  }
}
