import { monitorEventLoopDelay } from 'node:perf_hooks';
import { z } from 'zod';
import { defaults } from '../defaults.js';
import { parseWith } from '../options.js';
import type { CheckDefinition, Group } from '../types.js';

const schema = z
  .object({
    maxEventLoopDelayMs: z.number().positive().default(defaults.maxEventLoopDelayMs),
    resolutionMs: z.number().int().positive().default(10),
    groups: z.array(z.string()).default(['liveness', 'readiness']),
  })
  .strict();

export type ApplicationCheckOptions = z.input<typeof schema>;

/**
 * Process health: uptime plus the event-loop delay (p99 since the previous round, from
 * `perf_hooks.monitorEventLoopDelay`). A p99 above `maxEventLoopDelayMs` is `degraded`: the process
 * is alive but too busy to answer in time. Counts toward liveness and readiness by default.
 */
export function applicationCheck(options: ApplicationCheckOptions = {}): CheckDefinition {
  const o = parseWith(schema, options, 'applicationCheck');
  const histogram = monitorEventLoopDelay({ resolution: o.resolutionMs });
  histogram.enable();
  return {
    groups: o.groups as Group[],
    componentType: 'system',
    check: () => {
      // The histogram is in nanoseconds; an empty one (no sample yet) reports 0. It records the whole
      // time between samples, so an idle loop reads about `resolutionMs`: only the excess is delay.
      const excess = (ns: number) => Math.max(0, ns / 1e6 - o.resolutionMs);
      const p99 = histogram.count > 0 ? excess(histogram.percentile(99)) : 0;
      const max = histogram.count > 0 ? excess(histogram.max) : 0;
      histogram.reset();
      const delay = Math.round(p99 * 10) / 10;
      return {
        status: delay > o.maxEventLoopDelayMs ? 'degraded' : 'healthy',
        uptime_seconds: Math.round(process.uptime()),
        event_loop_delay_p99_ms: delay,
        event_loop_delay_max_ms: Math.round(max * 10) / 10,
        max_event_loop_delay_ms: o.maxEventLoopDelayMs,
      };
    },
    observe: (r) => [
      { measurement: 'uptime', observedValue: r.uptime_seconds, observedUnit: 's' },
      { measurement: 'eventLoopDelay', observedValue: r.event_loop_delay_p99_ms, observedUnit: 'ms' },
    ],
    close: () => {
      histogram.disable();
    },
  };
}
