import type { HealthJsonService } from './options.js';
import type { ComponentSnapshot } from './policy.js';
import type { HealthReport, Observation, Status } from './types.js';

/** Media type of the IETF health check response format (draft-inadarei-api-health-check). */
export const HEALTH_JSON_TYPE = 'application/health+json';

export type HealthJsonStatus = 'pass' | 'warn' | 'fail';

/** One entry of `checks` in the IETF draft. */
export interface HealthJsonCheck {
  componentId?: string;
  componentType?: string;
  observedValue?: unknown;
  observedUnit?: string;
  status: HealthJsonStatus;
  affectedEndpoints?: string[];
  time?: string;
  output?: string;
}

/** The IETF draft's top-level object. */
export interface HealthJson {
  status: HealthJsonStatus;
  version?: string;
  releaseId?: string;
  notes?: string[];
  output?: string;
  serviceId?: string;
  description?: string;
  checks: Record<string, HealthJsonCheck[]>;
}

const MAP: Record<Status, HealthJsonStatus> = { healthy: 'pass', degraded: 'warn', unhealthy: 'fail' };

function entry(o: Observation, fallback: Status, time: string | undefined, type?: string): HealthJsonCheck {
  const out: HealthJsonCheck = { status: MAP[o.status ?? fallback] };
  const componentType = o.componentType ?? type;
  if (o.componentId !== undefined) out.componentId = o.componentId;
  if (componentType !== undefined) out.componentType = componentType;
  if (o.observedValue !== undefined) out.observedValue = o.observedValue;
  if (o.observedUnit !== undefined) out.observedUnit = o.observedUnit;
  if (time !== undefined) out.time = time;
  // The draft: output carries the error for warn/fail and should be omitted on pass.
  if (o.output !== undefined && out.status !== 'pass') out.output = o.output;
  return out;
}

/**
 * Renders a report in the IETF format: healthy -> pass, degraded -> warn, unhealthy -> fail; an
 * instance that is healthy overall while a non-critical component is not reports `warn`.
 * Keys are `component` or `component:measurement`, each holding an array as the draft requires.
 */
export function toHealthJson(
  report: HealthReport,
  components: readonly ComponentSnapshot[],
  service: HealthJsonService = {},
): HealthJson {
  const checks: Record<string, HealthJsonCheck[]> = {};
  let anyNotHealthy = false;
  for (const c of components) {
    const shown = report.components[c.name];
    if (!shown) continue;
    if (shown.status !== 'healthy') anyNotHealthy = true;
    const time = c.checkedAt === undefined ? undefined : new Date(c.checkedAt).toISOString();
    const error = typeof shown.error === 'string' ? shown.error : undefined;
    let observations: Observation[] = [{}];
    if (c.result && c.def.observe) {
      try {
        observations = c.def.observe(c.result);
      } catch (err) {
        observations = [{ output: `observe() threw: ${(err as Error).message}` }];
      }
    }
    for (const o of observations) {
      const key = o.measurement ? `${c.name}:${o.measurement}` : c.name;
      const e = entry({ output: error, ...o }, shown.status, time, c.def.componentType);
      const list = checks[key] ?? [];
      list.push(e);
      checks[key] = list;
    }
  }
  const status: HealthJsonStatus =
    report.status === 'healthy' ? (anyNotHealthy ? 'warn' : 'pass') : MAP[report.status];
  const out: HealthJson = { status, ...service, checks };
  // The draft: output explains warn/fail and should be omitted on pass.
  if (report.reason && status !== 'pass') out.output = report.reason;
  return out;
}
