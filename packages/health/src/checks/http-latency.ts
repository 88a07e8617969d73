import { z } from 'zod';
import { defaults } from '../defaults.js';
import { parseWith } from '../options.js';
import type { CheckDefinition, CheckResult, Status } from '../types.js';

const target = z.union([
  z.url(),
  z
    .object({
      url: z.url(),
      method: z.enum(['GET', 'HEAD', 'OPTIONS']).optional(),
      headers: z.record(z.string(), z.string()).optional(),
      thresholdMs: z.number().positive().optional(),
    })
    .strict(),
]);

const schema = z
  .object({
    targets: z
      .record(z.string().regex(/^[A-Za-z0-9_]+$/), target)
      .refine((t) => Object.keys(t).length > 0, 'at least one target is required'),
    thresholdMs: z.number().positive().default(defaults.latencyThresholdMs),
    method: z.enum(['GET', 'HEAD', 'OPTIONS']).default('GET'),
    /** Statuses that count as reachable; by default anything below 500 (a 401 still proves the API answers). */
    okStatus: z.custom<(status: number) => boolean>((v) => typeof v === 'function').optional(),
  })
  .strict();

export type HttpLatencyCheckOptions = z.input<typeof schema>;

/**
 * Platform connectivity (seed: `genesys_cloud_latency_ms`, `cxone_latency_ms`): requests every target
 * in parallel and reports `<name>_latency_ms`. A failed request, a 5xx or no answer before the
 * timeout is `unhealthy` (named in `<name>_error`); a latency over the threshold is `degraded`.
 */
export function httpLatencyCheck(options: HttpLatencyCheckOptions): CheckDefinition {
  const o = parseWith(schema, options, 'httpLatencyCheck');
  const ok = o.okStatus ?? ((s: number) => s < 500);
  const targets = Object.entries(o.targets).map(([name, t]) =>
    typeof t === 'string'
      ? { name, url: t, method: o.method, headers: {}, thresholdMs: o.thresholdMs }
      : {
          name,
          url: t.url,
          method: t.method ?? o.method,
          headers: t.headers ?? {},
          thresholdMs: t.thresholdMs ?? o.thresholdMs,
        },
  );
  return {
    componentType: 'component',
    check: async (signal) => {
      const result: CheckResult = { status: 'healthy' };
      let status: Status = 'healthy';
      await Promise.all(
        targets.map(async (t) => {
          const started = performance.now();
          try {
            const res = await fetch(t.url, {
              method: t.method,
              headers: t.headers,
              signal,
              redirect: 'manual',
            });
            await res.body?.cancel();
            const latency = Math.round(performance.now() - started);
            result[`${t.name}_latency_ms`] = latency;
            if (!ok(res.status)) {
              result[`${t.name}_error`] = `HTTP ${res.status}`;
              status = 'unhealthy';
            } else if (latency > t.thresholdMs && status === 'healthy') {
              status = 'degraded';
            }
          } catch (err) {
            result[`${t.name}_latency_ms`] = null;
            result[`${t.name}_error`] = signal.aborted
              ? 'no answer before the timeout'
              : (err as Error).message;
            status = 'unhealthy';
          }
        }),
      );
      result.status = status;
      result.threshold_ms = o.thresholdMs;
      return result;
    },
    observe: (r) =>
      targets.map((t) => ({
        measurement: 'responseTime',
        componentId: t.name,
        observedValue: r[`${t.name}_latency_ms`],
        observedUnit: 'ms',
        ...(typeof r[`${t.name}_error`] === 'string'
          ? { status: 'unhealthy' as const, output: String(r[`${t.name}_error`]) }
          : {}),
      })),
  };
}
