import { Emitter } from '@cxkit/internal';
import { type HealthJson, toHealthJson } from './health-json.js';
import { advance, reported } from './hysteresis.js';
import { type HealthMonitorOptions, type ResolvedMonitorOptions, resolveMonitorOptions } from './options.js';
import { traced } from './otel.js';
import { aggregate, buildReport, type ComponentSnapshot } from './policy.js';
import { runCheck } from './run-check.js';
import type { CheckResult, Group, HealthMonitorEvents, HealthReport, Status, Unsubscribe } from './types.js';

export type { HealthMonitorEvents } from './types.js';

interface Slot extends ComponentSnapshot {
  /** The check's previous invocation has not settled (it ignored its AbortSignal). */
  pending: boolean;
}

/**
 * Runs checks in the background, in parallel, each under a timeout; probes read the latest snapshot
 * through `report()` and never run a check on the request path.
 */
export class HealthMonitor {
  readonly #o: ResolvedMonitorOptions;
  readonly #slots: Slot[];
  readonly #events: Emitter<HealthMonitorEvents>;
  #round: Promise<HealthReport> | undefined;
  #roundAt: number | undefined;
  #status: Status = 'unhealthy';
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #closed = false;
  #started = false;
  #draining: string | undefined;

  constructor(options: HealthMonitorOptions) {
    this.#o = resolveMonitorOptions(options);
    this.#events = new Emitter({
      onListenerError: (err) => this.#o.logger?.error?.({ err }, 'health: event listener threw'),
    });
    this.#slots = [...this.#o.checks].map(([name, def]) => ({
      name,
      def,
      state: { kind: 'unknown' },
      result: undefined,
      checkedAt: undefined,
      durationMs: undefined,
      pending: false,
    }));
  }

  on<K extends keyof HealthMonitorEvents>(
    event: K,
    listener: (payload: HealthMonitorEvents[K]) => void,
  ): Unsubscribe {
    return this.#events.on(event, listener);
  }

  /** Runs one round now (joining a round already under way) and resolves to the fresh report. */
  check(): Promise<HealthReport> {
    this.#round ??= this.#runRound().finally(() => {
      this.#round = undefined;
    });
    return this.#round;
  }

  /**
   * The latest snapshot, without running any check. A snapshot older than `maxStalenessMs`, no
   * completed round, or draining (for the overall and readiness views) reports `unhealthy`.
   * `group` narrows it to one probe group (`liveness`, `readiness`, `startup`, or your own).
   */
  report(group?: Group): HealthReport {
    const at = this.#roundAt;
    const out = buildReport(this.#slots, at ?? Date.now(), group);
    if (at === undefined) return { ...out, status: 'unhealthy', reason: 'no round completed yet' };
    const age = Date.now() - at;
    if (age > this.#o.maxStalenessMs) {
      return {
        ...out,
        status: 'unhealthy',
        reason: `snapshot is ${age} ms old (max ${this.#o.maxStalenessMs} ms)`,
      };
    }
    if (group === 'startup') {
      // Startup latches: once the startup components were healthy, the probe keeps passing.
      return this.#started ? { ...out, status: 'healthy' } : out;
    }
    if (this.#draining !== undefined && group !== 'liveness') {
      return { ...out, status: 'unhealthy', reason: this.#draining };
    }
    return out;
  }

  /** The latest snapshot as IETF `application/health+json` (pass/warn/fail). */
  healthJson(group?: Group): HealthJson {
    return toHealthJson(this.report(group), this.#slots, this.#o.service);
  }

  /** Makes the overall and readiness views fail from now on (used by graceful shutdown). */
  drain(reason = 'draining: shutting down'): void {
    this.#draining = reason;
    this.#o.logger?.info?.({ reason }, 'health: readiness now failing');
  }

  get draining(): boolean {
    return this.#draining !== undefined;
  }

  /** Starts background rounds: one now, then one `intervalMs` after each round ends. Idempotent. */
  start(): this {
    if (this.#running || this.#closed) return this;
    this.#running = true;
    this.#schedule(0);
    return this;
  }

  /** Stops background rounds, waits for a round under way, and releases what checks hold. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#running = false;
    clearTimeout(this.#timer);
    await this.#round?.catch(() => undefined);
    await Promise.allSettled(this.#slots.map(async (s) => s.def.close?.()));
    this.#events.clear();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #schedule(delayMs: number): void {
    if (!this.#running) return;
    this.#timer = setTimeout(() => {
      this.check()
        .catch((err: unknown) => this.#o.logger?.error?.({ err }, 'health: round failed'))
        .finally(() => this.#schedule(this.#o.intervalMs));
    }, delayMs);
    this.#timer.unref();
  }

  #runRound(): Promise<HealthReport> {
    return traced('cxkit.health.round', { 'cxkit.health.components': this.#slots.length }, async (finish) => {
      const started = performance.now();
      await Promise.all(this.#slots.map((slot) => this.#runSlot(slot)));
      this.#roundAt = Date.now();
      if (aggregate(this.#slots, 'startup') === 'healthy') this.#started = true;
      const report = this.report();
      const next = report.status;
      if (next !== this.#status) {
        const from = this.#status;
        this.#status = next;
        const log = next === 'healthy' ? this.#o.logger?.info : this.#o.logger?.warn;
        log?.call(this.#o.logger, { from, to: next }, `health: instance ${next}`);
        this.#events.emit('change', { from, to: next, report });
      }
      finish({ 'cxkit.health.status': next }, next !== 'healthy');
      this.#events.emit('round', { report, durationMs: Math.round(performance.now() - started) });
      return report;
    });
  }

  #runSlot(slot: Slot): Promise<void> {
    return traced('cxkit.health.check', { 'cxkit.health.component': slot.name }, async (finish) => {
      const before = reported(slot.state);
      let result: CheckResult;
      let timedOut = false;
      if (slot.pending) {
        // Never stack invocations of a check that ignores its signal: one outstanding call at most.
        result = {
          status: 'unhealthy',
          error: 'previous run has not settled (check ignores its AbortSignal)',
        };
        slot.durationMs = undefined;
      } else {
        slot.pending = true;
        const { outcome, settled } = runCheck(slot.name, slot.def, this.#o.abortGraceMs);
        void settled.finally(() => {
          slot.pending = false;
        });
        const o = await outcome;
        result = o.result;
        timedOut = o.timedOut;
        slot.durationMs = o.durationMs;
        if (timedOut) this.#o.logger?.warn?.({ component: slot.name, result }, 'health: check timed out');
      }
      slot.result = result;
      slot.checkedAt = Date.now();
      slot.state = advance(slot.state, result.status, this.#o);
      const after = reported(slot.state);
      finish(
        {
          'cxkit.health.observed_status': result.status,
          'cxkit.health.status': after,
          'cxkit.health.timed_out': timedOut,
        },
        result.status !== 'healthy',
      );
      if (after !== before) {
        this.#o.logger?.info?.(
          { component: slot.name, from: before, to: after },
          'health: component changed',
        );
        this.#events.emit('component', { name: slot.name, from: before, to: after, result });
      }
    });
  }
}
