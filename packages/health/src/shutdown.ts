import { Emitter } from '@cxkit/internal';
import { z } from 'zod';
import { defaults } from './defaults.js';
import type { HealthMonitor } from './monitor.js';
import { parseWith } from './options.js';
import { sleep } from './run-check.js';
import type { Logger, Unsubscribe } from './types.js';

/** Something to close on shutdown: a Redis client, a pg pool, an HTTP server... */
export interface ShutdownResource {
  name: string;
  close: () => unknown;
}

export interface GracefulShutdownOptions {
  /** Its overall and readiness views fail as soon as shutdown starts. */
  monitor?: Pick<HealthMonitor, 'drain' | 'close'>;
  /** Wait after failing readiness, so load balancers stop sending traffic. @default 5000 */
  drainDelayMs?: number;
  /** Longest wait for tracked in-flight work. @default 10000 */
  inFlightTimeoutMs?: number;
  /** Longest wait for one resource's `close()`; then the next one is closed anyway. @default 5000 */
  closeTimeoutMs?: number;
  /** Closed one after another, in this order, after in-flight work. */
  resources?: ShutdownResource[];
  /** Signals that start the shutdown; `[]` installs no handler. @default ['SIGTERM'] */
  signals?: NodeJS.Signals[];
  /** Calls `process.exit(0)` (1 if a resource failed) when done. @default false */
  exit?: boolean;
  logger?: Logger;
}

const schema = z
  .object({
    monitor: z
      .custom<GracefulShutdownOptions['monitor']>((v) => typeof (v as HealthMonitor)?.drain === 'function')
      .optional(),
    drainDelayMs: z.number().int().min(0).default(defaults.drainDelayMs),
    inFlightTimeoutMs: z.number().int().min(0).default(defaults.inFlightTimeoutMs),
    closeTimeoutMs: z.number().int().positive().default(defaults.closeTimeoutMs),
    resources: z
      .array(
        z.object({ name: z.string().min(1), close: z.custom<() => unknown>((v) => typeof v === 'function') }),
      )
      .default([]),
    signals: z.array(z.string().regex(/^SIG[A-Z0-9]+$/)).default(['SIGTERM']),
    exit: z.boolean().default(false),
    logger: z.custom<Logger>((v) => typeof v === 'object' && v !== null).optional(),
  })
  .strict();

export interface ShutdownResult {
  reason: string;
  /** Tracked work still running when `inFlightTimeoutMs` ran out (it was not waited for). */
  inFlightAbandoned: number;
  resources: { name: string; ok: boolean; error?: string; durationMs: number }[];
}

export interface GracefulShutdownEvents {
  phase: { phase: 'draining' | 'waiting' | 'closing' | 'closed'; reason: string };
  resource: ShutdownResult['resources'][number];
}

/**
 * The shutdown sequence of seed 001 section 4 (the instance "drains active connections"): on SIGTERM
 * fail readiness, wait `drainDelayMs`, wait for tracked in-flight work (bounded), then close the
 * resources in order, each bounded by `closeTimeoutMs`.
 */
export class GracefulShutdown {
  readonly #o: z.output<typeof schema>;
  readonly #events: Emitter<GracefulShutdownEvents>;
  readonly #onSignal: (signal: NodeJS.Signals) => void;
  #inFlight = 0;
  #idle: (() => void)[] = [];
  #result: Promise<ShutdownResult> | undefined;

  constructor(options: GracefulShutdownOptions = {}) {
    this.#o = parseWith(schema, options, 'gracefulShutdown');
    this.#events = new Emitter({
      onListenerError: (err) => this.#o.logger?.error?.({ err }, 'shutdown: listener threw'),
    });
    this.#onSignal = (signal) => void this.shutdown(signal);
    for (const s of this.#o.signals) process.once(s as NodeJS.Signals, this.#onSignal);
  }

  on<K extends keyof GracefulShutdownEvents>(
    event: K,
    listener: (payload: GracefulShutdownEvents[K]) => void,
  ): Unsubscribe {
    return this.#events.on(event, listener);
  }

  /** Work currently tracked. */
  get inFlight(): number {
    return this.#inFlight;
  }

  get shuttingDown(): boolean {
    return this.#result !== undefined;
  }

  /** Adds a resource to close after those already registered. */
  register(resource: ShutdownResource): void {
    this.#o.resources.push(resource);
  }

  /** Counts `work` as in flight until it settles; resolves or rejects like it. */
  track<T>(work: Promise<T> | (() => Promise<T>)): Promise<T> {
    this.#inFlight++;
    const p = typeof work === 'function' ? Promise.resolve().then(work) : work;
    return p.finally(() => this.#done());
  }

  /** Counts an HTTP response as in flight until it closes (for node:http/express/fastify raw). */
  trackResponse(res: { once(event: 'close', listener: () => void): unknown }): void {
    this.#inFlight++;
    res.once('close', () => this.#done());
  }

  /** Runs the sequence once; later calls (or signals) get the same promise. */
  shutdown(reason = 'shutdown requested'): Promise<ShutdownResult> {
    this.#result ??= this.#run(String(reason));
    return this.#result;
  }

  /** Removes the signal handlers (for tests and for code that installs its own). */
  dispose(): void {
    for (const s of this.#o.signals) process.removeListener(s as NodeJS.Signals, this.#onSignal);
  }

  #done(): void {
    this.#inFlight--;
    if (this.#inFlight === 0) for (const wake of this.#idle.splice(0)) wake();
  }

  #phase(phase: GracefulShutdownEvents['phase']['phase'], reason: string): void {
    this.#o.logger?.info?.({ phase, reason, inFlight: this.#inFlight }, `shutdown: ${phase}`);
    this.#events.emit('phase', { phase, reason });
  }

  async #run(reason: string): Promise<ShutdownResult> {
    this.#phase('draining', reason);
    this.#o.monitor?.drain(`draining: ${reason}`);
    await sleep(this.#o.drainDelayMs);
    this.#phase('waiting', reason);
    if (this.#inFlight > 0) {
      const idle = new Promise<void>((resolve) => this.#idle.push(resolve));
      const timeout = new AbortController();
      await Promise.race([idle, sleep(this.#o.inFlightTimeoutMs, timeout.signal)]);
      timeout.abort();
    }
    const inFlightAbandoned = this.#inFlight;
    this.#phase('closing', reason);
    const resources: ShutdownResult['resources'] = [];
    for (const r of this.#o.resources) {
      const started = performance.now();
      const stop = new AbortController();
      let outcome: { ok: boolean; error?: string };
      try {
        outcome = await Promise.race([
          Promise.resolve()
            .then(() => r.close())
            .then(() => ({ ok: true })),
          sleep(this.#o.closeTimeoutMs, stop.signal).then(() => ({
            ok: false,
            error: `close() did not finish within ${this.#o.closeTimeoutMs} ms`,
          })),
        ]);
      } catch (err) {
        outcome = { ok: false, error: err instanceof Error ? err.message : String(err) };
      }
      stop.abort();
      const entry = { name: r.name, ...outcome, durationMs: Math.round(performance.now() - started) };
      if (!entry.ok) this.#o.logger?.error?.(entry, `shutdown: closing ${r.name} failed`);
      this.#events.emit('resource', entry);
      resources.push(entry);
    }
    await this.#o.monitor?.close();
    this.dispose();
    this.#phase('closed', reason);
    const result = { reason, inFlightAbandoned, resources };
    if (this.#o.exit) process.exit(resources.every((r) => r.ok) ? 0 : 1);
    return result;
  }
}

/** Installs the shutdown sequence (on SIGTERM by default) and returns its handle. */
export function gracefulShutdown(options: GracefulShutdownOptions = {}): GracefulShutdown {
  return new GracefulShutdown(options);
}
