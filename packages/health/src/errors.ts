/** Base class of every error this package throws; `code` is stable across versions. */
export class HealthError extends Error {
  readonly code: string;
  readonly status: number | undefined;

  constructor(code: string, message: string, options: { cause?: unknown; status?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = options.status;
  }
}

/** A bad option; `field` names it (e.g. `checks.redis.timeoutMs`). */
export class ConfigError extends TypeError {
  readonly code = 'CONFIG_INVALID';
  readonly field: string;

  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'ConfigError';
    this.field = field;
  }
}

/** A check did not settle within its timeout. Recorded as the component's `error`. */
export class CheckTimeoutError extends HealthError {
  readonly component: string;
  readonly timeoutMs: number;

  constructor(component: string, timeoutMs: number) {
    super('HEALTH_CHECK_TIMEOUT', `check "${component}" timed out after ${timeoutMs} ms`, { status: 503 });
    this.component = component;
    this.timeoutMs = timeoutMs;
  }
}

/** A dependency breaker is open: the call was refused without touching the dependency. */
export class BreakerOpenError extends HealthError {
  readonly breaker: string;

  constructor(breaker: string, cause?: unknown) {
    super('BREAKER_OPEN', `breaker "${breaker}" is open`, { cause, status: 503 });
    this.breaker = breaker;
  }
}

/** A call failed and the shared retry budget had no token left for another attempt. */
export class RetryBudgetExhaustedError extends HealthError {
  readonly attempts: number;

  constructor(attempts: number, cause: unknown) {
    super('RETRY_BUDGET_EXHAUSTED', `retry budget exhausted after ${attempts} attempt(s)`, {
      cause,
      status: 503,
    });
    this.attempts = attempts;
  }
}

/** A failover vote or decision could not be recorded (Redis unreachable or a bad reply). */
export class FailoverError extends HealthError {
  constructor(message: string, cause?: unknown) {
    super('FAILOVER_UNAVAILABLE', message, { cause, status: 503 });
  }
}

const guard =
  <T extends Error>(cls: abstract new (...args: never[]) => T, code: string) =>
  (err: unknown): err is T =>
    err instanceof cls || (err instanceof Error && (err as { code?: unknown }).code === code);

export const isHealthError = (err: unknown): err is HealthError => err instanceof HealthError;
export const isConfigError = guard(ConfigError, 'CONFIG_INVALID');
export const isCheckTimeoutError = guard(CheckTimeoutError, 'HEALTH_CHECK_TIMEOUT');
export const isBreakerOpenError = guard(BreakerOpenError, 'BREAKER_OPEN');
export const isRetryBudgetExhaustedError = guard(RetryBudgetExhaustedError, 'RETRY_BUDGET_EXHAUSTED');
export const isFailoverError = guard(FailoverError, 'FAILOVER_UNAVAILABLE');
