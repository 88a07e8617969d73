import type { LockEvents } from '@cxkit/locks';
import type { Db } from '../db/client.js';
import { recordLockOverride } from '../db/lock-audit.js';

export interface OverriddenHolder {
  region: string;
  fence: number;
  operation: string;
  correlation_id: string;
  heartbeat_age_ms: number;
}

/**
 * Audit trail of stale-lock overrides: every `override` event of the lock manager is written to the
 * `lock_overrides` table (seed 001: "log all lock overrides"), and kept briefly by the new token so the
 * acquire response can name the previous holder. Bounded to `max` recent entries.
 */
export class OverrideLog {
  readonly #recent = new Map<string, { holder: OverriddenHolder; written: Promise<void> }>();

  constructor(
    private readonly db: Db,
    private readonly onError: (err: unknown) => void,
    private readonly max = 1000,
  ) {}

  record(event: LockEvents['override']): void {
    if (this.#recent.size >= this.max) this.#recent.delete(this.#recent.keys().next().value as string);
    const holder = {
      region: event.previous.region,
      fence: event.previous.fence,
      operation: event.previous.operation,
      correlation_id: event.previous.correlationId,
      heartbeat_age_ms: event.previous.heartbeatAgeMs,
    };
    const written = recordLockOverride(this.db, {
      resourceId: event.resource,
      previousRegion: event.previous.region,
      previousFence: event.previous.fence,
      previousOperation: event.previous.operation,
      region: event.region,
      fence: event.fence,
      correlationId: event.previous.correlationId,
    }).catch(this.onError);
    this.#recent.set(event.token, { holder, written });
  }

  /** The holder this token replaced, once its audit row is written (audit before acknowledgement). */
  async take(token: string): Promise<OverriddenHolder | undefined> {
    const found = this.#recent.get(token);
    if (!found) return undefined;
    this.#recent.delete(token);
    await found.written;
    return found.holder;
  }
}
