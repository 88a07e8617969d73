import { Emitter } from '@cxkit/internal';
import type { Attributes, Span } from '@opentelemetry/api';
import { type AttemptInput, attempt, type Core, type Handler, type Outcome } from './attempt.js';
import { batches } from './batches.js';
import { isPoolLike, type Queryable, runStatement } from './db.js';
import { defaults } from './defaults.js';
import {
  ConfigError,
  IdempotencyKeyReusedError,
  InvalidRequestError,
  isIdempotencyInProgressError,
} from './errors.js';
import type { IdempotencyEventName, IdempotencyEvents, Unsubscribe } from './events.js';
import { normalizeFence } from './fence.js';
import { joinUntil, raceSignal } from './join.js';
import { canonicalJson, checkJson, sha256 } from './json.js';
import { assertValidKey } from './key.js';
import { cachedResponse, LocalCache, sameRequest } from './local-cache.js';
import { type IdempotencyStoreOptions, type ResolvedOptions, resolveOptions } from './options.js';
import type { IdempotentResponse } from './response.js';
import { type Flight, SingleFlight } from './single-flight.js';
import { quoteTable, statements } from './sql.js';
import { Sweeper, type SweepOptions, type SweepResult, sweep } from './sweeper.js';
import {
  ATTR_BATCHES,
  ATTR_DELETED,
  ATTR_OUTCOME,
  ATTR_SOURCE,
  ATTR_TABLE,
  LRU_HIT,
  LRU_MISMATCH,
  SPAN_EXECUTE,
  SPAN_SWEEP,
  traceResult,
  tracing,
} from './tracing.js';
import { Waiter, within } from './waiter.js';

export interface ExecuteOptions {
  /** Wait up to this many ms for a run in progress elsewhere instead of failing with 409 at once. @default 0 */
  wait?: number;
  /** Lock fence of the caller (e.g. `lock.fence` from @cxkit/locks); a lower one than recorded is rejected. */
  fence?: number | bigint | string;
  /** The caller's PoolClient inside a transaction: claim, business writes and response commit together. */
  client?: Queryable;
  signal?: AbortSignal;
}

export interface ExecuteResult<R> {
  /** True when the response comes from an earlier run (database, LRU front or a shared in-flight call). */
  replayed: boolean;
  response: R;
}

/** Postgres idempotency store with an LRU front, single-flight and leases. */
export class IdempotencyStore {
  readonly options: Readonly<Omit<ResolvedOptions, 'db' | 'logger'>>;
  readonly #core: Core;
  readonly #flights: SingleFlight<Outcome>;
  readonly #marks: SingleFlight<boolean>;
  readonly #waiter: Waiter;
  readonly #sweepers = new Set<Sweeper>();
  /** The span attributes every call shares (built once: no allocation per call). */
  readonly #spanAttributes: Attributes;

  constructor(options: IdempotencyStoreOptions) {
    const resolved = resolveOptions(options);
    const { db, logger, ...rest } = resolved;
    this.options = Object.freeze(rest);
    const channel = `cxkit_idem_${resolved.table.replace('.', '_')}`.slice(0, 63);
    const events = new Emitter<IdempotencyEvents>({
      onListenerError: (err) => logger?.error({ err }, 'idempotency event listener threw'),
    });
    const notify = isPoolLike(db) ? channel : null;
    const sql = statements(resolved.table, {
      leaseMs: resolved.inProgressTtlMs,
      ttlSeconds: resolved.ttlSeconds,
      channel: notify,
    });
    const prepared = resolved.preparedStatements ?? isPoolLike(db);
    this.#core = {
      db,
      sql,
      options: resolved,
      events,
      cache: new LocalCache(resolved.localCache),
      prepared,
      batches: batches(db, sql, prepared, resolved.maxBatch, logger),
    };
    this.#flights = new SingleFlight(defaults.maxInFlight);
    this.#marks = new SingleFlight(defaults.maxInFlight);
    this.#waiter = new Waiter(db, channel, resolved.waitPollMs, defaults.maxInFlight, logger);
    this.#spanAttributes = Object.freeze({ [ATTR_TABLE]: resolved.table });
    void tracing.load();
  }

  /** Subscribes to an event; the returned function (also a Disposable) unsubscribes. */
  on<K extends IdempotencyEventName>(
    event: K,
    listener: (payload: IdempotencyEvents[K]) => void,
  ): Unsubscribe {
    return this.#core.events.on(event, listener);
  }

  /**
   * Creates the table and its indexes if missing. Safe to run from many pods at once. Refuses a table
   * of another stored layout (an earlier 0.x version's): old and new records never mix.
   */
  async migrate(): Promise<void> {
    const { db, sql, options } = this.#core;
    for (const statement of sql.migrate) {
      // Concurrent CREATE ... IF NOT EXISTS can still collide in the catalog (on the relation, or on
      // its row type: 42710); the loser retries once and then finds it.
      await db.query(statement).catch(async (err: { code?: string }) => {
        if (err.code !== '23505' && err.code !== '42P07' && err.code !== '42710') throw err;
        await db.query(statement);
      });
    }
    const { rows } = await db.query(sql.layoutCheck, [quoteTable(options.table)]);
    if (rows[0]?.fingerprint !== 'bytea') {
      throw new ConfigError(
        'table',
        `"${options.table}" has the stored layout of another @cxkit/idempotency version (fingerprint ${rows[0]?.fingerprint ?? 'missing'}); use a new table`,
      );
    }
  }

  /**
   * Runs `handler` at most once per `key` for the same `request` and answers every repeat with its
   * stored response. Validation (key, request, fence) happens before anything is written.
   */
  execute<R extends IdempotentResponse>(
    key: string,
    request: unknown,
    handler: Handler<R>,
    options?: ExecuteOptions,
  ): Promise<ExecuteResult<R>> {
    // No SDK registered (or no @opentelemetry/api): no span, no closure, no extra promise on an LRU hit.
    if (!tracing.enabled) return this.#execute(key, request, handler, options, undefined);
    return tracing.traced(SPAN_EXECUTE, this.#spanAttributes, (span) =>
      span
        ? traceResult(span, this.#execute(key, request, handler, options, span))
        : this.#execute(key, request, handler, options, undefined),
    );
  }

  async #execute<R extends IdempotentResponse>(
    key: string,
    request: unknown,
    handler: Handler<R>,
    options: ExecuteOptions | undefined,
    span: Span | undefined,
  ): Promise<ExecuteResult<R>> {
    assertValidKey(key);
    const fence = options?.fence === undefined ? null : normalizeFence(options.fence);
    const wait = options?.wait ?? 0;
    if (!Number.isFinite(wait) || wait < 0)
      throw new ConfigError('wait', 'expected a non-negative number of ms');
    const signal = options?.signal;
    const client = options?.client;
    signal?.throwIfAborted();

    // LRU hit: the request is compared value by value with the cached one, which also proves it plain
    // JSON; only a different request is validated to tell 400 from 422. No text, no hash, no query.
    const cached = this.#core.cache.get(key);
    if (cached) {
      if (!sameRequest(cached, request)) {
        const problem = checkJson(request);
        if (problem) throw new InvalidRequestError(problem.path, problem.reason);
        span?.setAttributes(LRU_MISMATCH);
        this.#core.events.emit('mismatch', { key });
        throw new IdempotencyKeyReusedError(key);
      }
      span?.setAttributes(LRU_HIT);
      if (this.#core.events.has('hit')) this.#core.events.emit('hit', { key });
      return { replayed: true, response: cachedResponse(cached) as R };
    }

    const canonical = canonicalJson(request);
    if (typeof canonical !== 'string') throw new InvalidRequestError(canonical.path, canonical.reason);
    const fingerprint = sha256(canonical);
    // Only a caller's own transaction runs under its signal; a shared flight must outlive any one caller.
    const input: AttemptInput = {
      key,
      fingerprint,
      canonical,
      fence,
      client,
      signal: client ? signal : undefined,
      span,
    };
    const deadline = Date.now() + wait;
    for (;;) {
      try {
        const outcome = await this.#once(input, handler as Handler<unknown>, deadline, signal);
        if (outcome) return outcome as ExecuteResult<R>;
      } catch (err) {
        const left = deadline - Date.now();
        if (!isIdempotencyInProgressError(err) || left <= 0 || client) throw err;
        await this.#waitFor(key, Math.min(left, err.retryAfterMs), signal);
      }
    }
  }

  /**
   * One attempt. Without a caller's transaction, concurrent identical calls in this process share it:
   * a joiner takes the shared claim's answer, and if that claim turned into a running handler, waits
   * for it only until its own `wait` deadline (then 409, like a caller in another pod). Undefined: the
   * shared run left the key released, claim again.
   */
  #once(
    input: AttemptInput,
    handler: Handler<unknown>,
    deadline: number,
    signal: AbortSignal | undefined,
  ): Promise<Outcome | undefined> {
    const { span } = input;
    if (input.client) {
      span?.setAttribute(ATTR_SOURCE, 'postgres');
      return attempt(this.#core, input, handler);
    }
    // The canonical request identifies it as well as its digest does. A different fence is a different
    // lock holder: it never shares another holder's run.
    const identity = input.fence === null ? input.canonical : `${input.fence}/${input.canonical}`;
    const flight = this.#flights.join(input.key, identity);
    if (!flight) {
      span?.setAttribute(ATTR_SOURCE, 'postgres');
      const run = this.#flights.start(input.key, identity, (own) => attempt(this.#core, input, handler, own));
      return raceSignal(run, signal);
    }
    span?.setAttribute(ATTR_SOURCE, 'in-flight');
    return this.#joined(input.key, flight, deadline, signal, span);
  }

  async #joined(
    key: string,
    flight: Flight<Outcome>,
    deadline: number,
    signal: AbortSignal | undefined,
    span: Span | undefined,
  ): Promise<Outcome | undefined> {
    let value: Outcome;
    try {
      value = await raceSignal(joinUntil(key, flight, deadline), signal);
    } catch (err) {
      // The shared run's handler started and then failed (it threw, or its result was not stored): the
      // key is released or holds what the database says, so claim again as a caller in another pod
      // would. A 409 past the joiner's deadline, its own abort, or a failed shared claim stand.
      if (flight.startedAt === 0 || isIdempotencyInProgressError(err) || signal?.aborted) throw err;
      return undefined;
    }
    if (flight.released) return undefined;
    span?.setAttribute(ATTR_OUTCOME, 'replay');
    if (this.#core.events.has('replay')) this.#core.events.emit('replay', { key, source: 'in-flight' });
    return { replayed: true, response: value.response };
  }

  /**
   * Asks the running pod to NOTIFY (once per key) and sleeps until woken, polled or out of time. Setting
   * up LISTEN and the mark wait on a pool connection: both count against `ms` and end with `signal`.
   */
  async #waitFor(key: string, ms: number, signal?: AbortSignal): Promise<void> {
    const until = Date.now() + ms;
    if (await within(this.#waiter.listen(), ms, signal)) {
      const { db, sql } = this.#core;
      // Waiters of one key share one UPDATE: a storm marks the row once, not once per caller.
      const mark =
        this.#marks.join(key, '')?.promise ??
        this.#marks.start(
          key,
          '',
          async () => (await runStatement(db, sql.markContended, [key], this.#core.prepared)).rows.length > 0,
        );
      // Unreachable, or no answer in time: polling finds out.
      const stillRunning = await within(
        mark.catch(() => true),
        until - Date.now(),
        signal,
      );
      if (stillRunning === false) return;
    }
    const left = until - Date.now();
    if (left > 0) await this.#waiter.wait(key, left, signal);
  }

  /** Deletes expired rows in bounded batches (FOR UPDATE SKIP LOCKED: safe from many pods at once). */
  sweep(options: SweepOptions = {}): Promise<SweepResult> {
    return tracing.traced(SPAN_SWEEP, this.#spanAttributes, async (span) => {
      const result = await sweep(this.#core.db, this.#core.sql.sweep, this.#core.prepared, options);
      span?.setAttributes({ [ATTR_DELETED]: result.deleted, [ATTR_BATCHES]: result.batches });
      this.#core.events.emit('sweep', result);
      return result;
    });
  }

  /** Runs `sweep()` every `intervalMs` (unref'd timer, never overlapping) until `stop()` or `close()`. */
  startSweeper(intervalMs: number, options: SweepOptions = {}): { stop(): void } {
    // Above the largest timer delay Node would fire every millisecond instead.
    if (!Number.isInteger(intervalMs) || intervalMs < 1 || intervalMs > 2_147_483_647)
      throw new ConfigError('intervalMs', 'expected an integer between 1 and 2147483647');
    const sweeper = new Sweeper(
      intervalMs,
      () => this.sweep(options),
      this.#core.options.logger,
      () => this.#sweepers.delete(sweeper),
    );
    this.#sweepers.add(sweeper);
    return sweeper;
  }

  /** Stops sweepers, releases the LISTEN connection and empties the LRU front. Does not end `db`. */
  async close(): Promise<void> {
    for (const s of [...this.#sweepers]) s.stop();
    await this.#waiter.close();
    this.#core.cache.clear();
  }
}
