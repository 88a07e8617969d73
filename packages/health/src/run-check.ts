import { CheckTimeoutError } from './errors.js';
import type { CheckDefinition, CheckResult, Status } from './types.js';

export interface CheckOutcome {
  result: CheckResult;
  durationMs: number;
  timedOut: boolean;
}

const STATUSES = new Set<Status>(['healthy', 'degraded', 'unhealthy']);

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function normalize(value: unknown): CheckResult {
  if (typeof value === 'object' && value !== null && STATUSES.has((value as CheckResult).status)) {
    return value as CheckResult;
  }
  return { status: 'unhealthy', error: `check resolved an invalid result: ${describe(value)}` };
}

/** A short rendering of what a check resolved; never throws (circular objects, bigints). */
function describe(value: unknown): string {
  try {
    return (JSON.stringify(value) ?? String(value)).slice(0, 200);
  } catch {
    return typeof value === 'object' && value !== null
      ? `a ${value.constructor?.name ?? 'object'}`
      : typeof value;
  }
}

/** Resolves after `ms` (unref'd) or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    timer.unref?.();
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Runs one check with its own AbortSignal that fires after `timeoutMs`. A throw counts as unhealthy.
 * On timeout the check gets `graceMs` to resolve what it knows (e.g. which node hung); whatever it
 * returns is kept as details but the status is forced to unhealthy. `settled` resolves once the
 * check's own promise settles, which may be long after this function returned.
 */
export function runCheck(
  name: string,
  def: CheckDefinition & { timeoutMs: number },
  graceMs: number,
): { outcome: Promise<CheckOutcome>; settled: Promise<void> } {
  const controller = new AbortController();
  const started = performance.now();
  let value: { ok: true; result: CheckResult } | { ok: false; error: unknown } | undefined;
  const settled = (async () => def.check(controller.signal))().then(
    (v) => {
      value = { ok: true, result: normalize(v) };
    },
    (error: unknown) => {
      value = { ok: false, error };
    },
  );
  const outcome = (async (): Promise<CheckOutcome> => {
    const timer = setTimeout(
      () => controller.abort(new CheckTimeoutError(name, def.timeoutMs)),
      def.timeoutMs,
    );
    timer.unref?.();
    await Promise.race([settled, sleep(def.timeoutMs + 1, controller.signal)]);
    clearTimeout(timer);
    const timedOut = controller.signal.aborted;
    if (timedOut && value === undefined) await Promise.race([settled, sleep(graceMs)]);
    const durationMs = Math.round(performance.now() - started);
    const timeoutText = new CheckTimeoutError(name, def.timeoutMs).message;
    if (value === undefined)
      return { result: { status: 'unhealthy', error: timeoutText }, durationMs, timedOut };
    if (!value.ok) {
      const error = timedOut ? timeoutText : message(value.error);
      return { result: { status: 'unhealthy', error }, durationMs, timedOut };
    }
    if (timedOut) {
      // Keep what the check found out (e.g. which node hung) next to the timeout itself.
      const own = typeof value.result.error === 'string' ? `: ${value.result.error}` : '';
      const result: CheckResult = { ...value.result, status: 'unhealthy', error: `${timeoutText}${own}` };
      return { result, durationMs, timedOut };
    }
    return { result: value.result, durationMs, timedOut };
  })();
  return { outcome, settled };
}
