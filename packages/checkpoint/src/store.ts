import { createTracing, Emitter } from '@cxkit/internal';
import type { CheckpointBackend, RawCheckpoint } from './backend.js';
import { decode, encodeMigrated } from './decode.js';
import { prepareSave } from './encode.js';
import { RevisionConflictError, StaleFenceError } from './errors.js';
import type { CheckpointEvents, Unsubscribe } from './events.js';
import type { CheckpointSchema } from './schema/define-schema.js';
import { assertSessionId } from './session-id.js';
import type {
  HistoryEntry,
  LatestResult,
  QuarantinedCheckpoint,
  SaveInput,
  SaveResult,
  StoreSettings,
} from './types.js';

const tracing = createTracing('@cxkit/checkpoint');

/** The contract of every checkpoint store; backends differ only in `CheckpointBackend`. */
export abstract class BaseCheckpointStore<V, I> {
  readonly #events: Emitter<CheckpointEvents>;

  protected constructor(
    protected readonly backend: CheckpointBackend,
    protected readonly settings: StoreSettings,
  ) {
    this.#events = new Emitter<CheckpointEvents>({
      onListenerError: (err, event) =>
        settings.logger?.error({ err, event }, 'checkpoint event listener threw'),
      // A leak shows up as an error, not as memory.
      maxListeners: 100,
    });
    void tracing.load();
  }

  get schema(): CheckpointSchema<V, I> {
    return this.settings.schema as CheckpointSchema<V, I>;
  }

  /** Subscribes to a typed event; the returned function (or `using`) unsubscribes. */
  on<K extends keyof CheckpointEvents>(event: K, listener: (e: CheckpointEvents[K]) => void): Unsubscribe {
    return this.#events.on(event, listener);
  }

  /**
   * Validates, then writes atomically as the next revision. Rejects `CheckpointValidationError`,
   * `NotSerializableError`, `CheckpointTooLargeError`, `InvalidSessionIdError` (nothing written),
   * `StaleFenceError` or `RevisionConflictError` (nothing written).
   */
  save(sessionId: string, input: SaveInput<I>): Promise<SaveResult> {
    // Without an SDK a span is a no-op: skip it, its attributes and its closure on the hot path.
    if (!tracing.enabled) return this.#save(sessionId, input);
    return tracing.traced('checkpoint.save', { 'cxkit.session_id': String(sessionId) }, () =>
      this.#save(sessionId, input),
    );
  }

  async #save(sessionId: string, input: SaveInput<I>): Promise<SaveResult> {
    assertSessionId(sessionId, this.settings.maxSessionIdLength);
    const prepared = prepareSave(this.settings.schema, input as SaveInput, this.settings.maxBytes);
    const outcome = await this.backend.write(sessionId, prepared);
    if (outcome.ok) {
      const result = {
        revision: outcome.revision,
        checkpointId: prepared.checkpointId,
        savedAt: new Date(outcome.savedAtMs),
      };
      // Most stores have no listener: skip building the event on the hot path.
      if (this.#events.has('saved'))
        this.#events.emit('saved', { sessionId, ...result, bytes: prepared.bytes });
      this.settings.logger?.debug({ sessionId, revision: result.revision }, 'checkpoint saved');
      return result;
    }
    if (outcome.kind === 'stale-fence') {
      const fence = prepared.fence!;
      this.#events.emit('staleFence', { sessionId, fence, highestFence: outcome.highestFence });
      this.settings.logger?.warn(
        { sessionId, fence, highestFence: outcome.highestFence },
        'stale fence rejected',
      );
      throw new StaleFenceError(sessionId, fence, outcome.highestFence);
    }
    const expectedRevision = prepared.expectedRevision!;
    this.#events.emit('conflict', { sessionId, expectedRevision, actualRevision: outcome.actualRevision });
    throw new RevisionConflictError(sessionId, expectedRevision, outcome.actualRevision);
  }

  /** The newest checkpoint as a tagged result, in one round trip; never throws on bad stored data. */
  latest(sessionId: string): Promise<LatestResult<V>> {
    if (!tracing.enabled) return this.#latest(sessionId);
    return tracing.traced('checkpoint.latest', { 'cxkit.session_id': String(sessionId) }, () =>
      this.#latest(sessionId),
    );
  }

  async #latest(sessionId: string): Promise<LatestResult<V>> {
    assertSessionId(sessionId, this.settings.maxSessionIdLength);
    const found = await this.backend.latest(sessionId);
    return this.#resolve(sessionId, found, true);
  }

  /** One retained revision, decoded like `latest()` (without write-back); `absent` once trimmed. */
  async get(sessionId: string, revision: number): Promise<LatestResult<V>> {
    assertSessionId(sessionId, this.settings.maxSessionIdLength);
    if (!Number.isSafeInteger(revision) || revision < 1) {
      throw new RangeError(`revision must be a positive integer, got ${revision}`);
    }
    return this.#resolve(sessionId, await this.backend.get(sessionId, revision), false);
  }

  /** Retained checkpoints, newest first (the first checkpoint of the session last while kept). */
  async history(sessionId: string, options: { limit?: number } = {}): Promise<HistoryEntry<V>[]> {
    assertSessionId(sessionId, this.settings.maxSessionIdLength);
    const limit = options.limit ?? this.settings.history + 1;
    if (!Number.isSafeInteger(limit) || limit < 1)
      throw new RangeError(`limit must be a positive integer, got ${limit}`);
    const rows = await this.backend.history(sessionId, Math.min(limit, this.settings.history + 1));
    const out: HistoryEntry<V>[] = [];
    for (const row of rows) out.push((await this.#resolve(sessionId, row, false)) as HistoryEntry<V>);
    return out;
  }

  /** Removes every checkpoint, the revision counter and the fence of a session. */
  async delete(sessionId: string): Promise<boolean> {
    assertSessionId(sessionId, this.settings.maxSessionIdLength);
    const removed = await this.backend.delete(sessionId);
    if (removed) this.#events.emit('deleted', { sessionId });
    return removed;
  }

  /** Payloads set aside by `onUnknownVersion: 'quarantine'`, for audit. */
  async quarantined(sessionId: string): Promise<QuarantinedCheckpoint[]> {
    assertSessionId(sessionId, this.settings.maxSessionIdLength);
    return (await this.backend.quarantined(sessionId)).map((text) => {
      const e = JSON.parse(text) as Omit<QuarantinedCheckpoint, 'quarantinedAt'> & { quarantinedAt: number };
      return { ...e, quarantinedAt: new Date(e.quarantinedAt) };
    });
  }

  #defaults(): V | undefined {
    const d = this.settings.schema.defaults;
    return d === undefined ? undefined : (structuredClone(d) as V);
  }

  async #resolve(
    sessionId: string,
    found: RawCheckpoint | undefined,
    sideEffects: boolean,
  ): Promise<LatestResult<V>> {
    if (!found) return { status: 'absent', revision: 0, variables: this.#defaults() };
    const schema = this.settings.schema as CheckpointSchema<V, I>;
    const decoded = decode(sessionId, found.raw, schema);
    if (!decoded.ok) {
      const revision = found.revision;
      let quarantined = false;
      if (sideEffects && schema.onUnknownVersion === 'quarantine') {
        quarantined = await this.#quarantine(sessionId, revision, decoded.reason, decoded.detail, found.raw);
      }
      const { reason, detail, storedVersion } = decoded;
      if (sideEffects)
        this.#events.emit('incompatible', { sessionId, revision, reason, detail, quarantined });
      this.settings.logger?.warn({ sessionId, revision, reason, detail }, 'checkpoint incompatible');
      return {
        status: 'incompatible',
        reason,
        detail,
        revision,
        storedVersion,
        quarantined,
        variables: this.#defaults(),
      };
    }
    const { checkpoint, fromVersion } = decoded;
    // The counter's value, not the payload's: it is what the next compare-and-set is checked against.
    const revision = found.revision;
    if (fromVersion === schema.version) return { status: 'restored', revision, checkpoint };
    let writtenBack = false;
    if (sideEffects && this.settings.writeBackMigrated) {
      try {
        writtenBack = await this.backend.rewrite(
          sessionId,
          checkpoint.revision,
          found.raw,
          encodeMigrated(checkpoint, fromVersion),
        );
      } catch (err) {
        // The migrated checkpoint is still correct for this caller; the next read upcasts again.
        this.settings.logger?.warn({ err, sessionId }, 'checkpoint write-back failed');
      }
    }
    if (sideEffects) {
      this.#events.emit('migrated', {
        sessionId,
        revision: checkpoint.revision,
        fromVersion,
        toVersion: schema.version,
        writtenBack,
      });
    }
    return { status: 'migrated', revision, checkpoint, fromVersion, writtenBack };
  }

  async #quarantine(sessionId: string, revision: number, reason: string, detail: string, raw: string) {
    const entry = JSON.stringify({ reason, detail, raw, quarantinedAt: Date.now() });
    try {
      return await this.backend.quarantine(sessionId, { revision, entry });
    } catch (err) {
      this.settings.logger?.error({ err, sessionId, revision }, 'checkpoint quarantine failed');
      return false;
    }
  }
}
