import type { HolderInfo, NodeOutcome } from './types.js';

/** Base class of every error this package throws (except `ConfigError`); `code` is stable across versions. */
export class LockError extends Error {
  readonly code: string;
  readonly status: number | undefined;
  readonly resource: string | undefined;

  constructor(
    code: string,
    message: string,
    options: { cause?: unknown; status?: number; resource?: string } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = options.status;
    this.resource = options.resource;
  }
}

/** A call on (or a wait in) a manager that was closed. */
export const managerClosed = (resource: string): LockError =>
  new LockError('LOCK_MANAGER_CLOSED', 'LockManager is closed', { resource });

/** A bad option or argument; `field` names it. Thrown before any Redis call. */
export class ConfigError extends TypeError {
  readonly code = 'LOCK_CONFIG_INVALID';
  readonly field: string;

  constructor(field: string, message: string, options: { cause?: unknown } = {}) {
    super(`${field}: ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ConfigError';
    this.field = field;
  }
}

/** Another owner holds the lock (HTTP 409). `holder` is what the majority of nodes reported. */
export class LockConflictError extends LockError {
  readonly holder: HolderInfo | undefined;
  readonly nodes: readonly NodeOutcome[];

  constructor(resource: string, holder: HolderInfo | undefined, nodes: readonly NodeOutcome[]) {
    const who = holder
      ? ` by ${holder.region}/${holder.operation || '-'} (${holder.correlationId || holder.token})`
      : '';
    super('LOCK_CONFLICT', `lock "${resource}" is held${who}`, { status: 409, resource });
    this.holder = holder;
    this.nodes = nodes;
  }
}

/** Too few nodes answered (or counted, see the amnesia guard) to form a quorum (HTTP 503). */
export class QuorumUnavailableError extends LockError {
  readonly nodes: readonly NodeOutcome[];
  readonly quorum: number;

  constructor(resource: string, quorum: number, nodes: readonly NodeOutcome[], cause?: unknown) {
    const summary = nodes.map((n) => `${n.node}:${n.outcome}`).join(', ');
    super('QUORUM_UNAVAILABLE', `lock "${resource}": quorum of ${quorum} not reached (${summary})`, {
      status: 503,
      resource,
      cause,
    });
    this.nodes = nodes;
    this.quorum = quorum;
  }
}

/** `waitMs` ran out (or the retry bound was hit) before the lock became free. `cause` is the last failure. */
export class AcquireTimeoutError extends LockError {
  readonly waitedMs: number;
  readonly attempts: number;

  constructor(resource: string, waitedMs: number, attempts: number, cause: unknown) {
    super(
      'LOCK_ACQUIRE_TIMEOUT',
      `lock "${resource}" not acquired within ${waitedMs} ms (${attempts} attempts)`,
      {
        status: 409,
        resource,
        cause,
      },
    );
    this.waitedMs = waitedMs;
    this.attempts = attempts;
  }
}

/** Why a held lock stopped being valid. */
export type LostReason = 'taken-over' | 'expired' | 'max-hold' | 'released' | 'closed';

/** A held lock could no longer be proven valid; it is the reason of `lock.signal`. */
export class LockLostError extends LockError {
  readonly reason: LostReason;
  readonly fence: number;

  constructor(resource: string, fence: number, reason: LostReason, cause?: unknown) {
    super('LOCK_LOST', `lock "${resource}" (fence ${fence}) lost: ${reason}`, {
      status: 409,
      resource,
      cause,
    });
    this.reason = reason;
    this.fence = fence;
  }
}

/** A bound (`maxHeldLocks`, `maxWaiters`) was hit; nothing was written. */
export class LockLimitError extends LockError {
  readonly limit: string;

  constructor(limit: string, value: number) {
    super('LOCK_LIMIT', `${limit} (${value}) reached`, { status: 503 });
    this.limit = limit;
  }
}

const guard =
  <T extends Error>(cls: abstract new (...args: never[]) => T, code: string) =>
  (err: unknown): err is T =>
    err instanceof cls || (err instanceof Error && (err as { code?: unknown }).code === code);

export const isLockError = (err: unknown): err is LockError => err instanceof LockError;
export const isConfigError = guard(ConfigError, 'LOCK_CONFIG_INVALID');
export const isLockConflictError = guard(LockConflictError, 'LOCK_CONFLICT');
export const isQuorumUnavailableError = guard(QuorumUnavailableError, 'QUORUM_UNAVAILABLE');
export const isAcquireTimeoutError = guard(AcquireTimeoutError, 'LOCK_ACQUIRE_TIMEOUT');
export const isLockLostError = guard(LockLostError, 'LOCK_LOST');
export const isLockLimitError = guard(LockLimitError, 'LOCK_LIMIT');
