import { type HysteresisState, reported } from './hysteresis.js';
import type { CheckDefinition, CheckResult, ComponentReport, Group, HealthReport, Status } from './types.js';

/** What the monitor knows about one component after the latest round. */
export interface ComponentSnapshot {
  name: string;
  def: CheckDefinition & { critical: boolean; groups: readonly Group[]; timeoutMs: number };
  state: HysteresisState;
  /** The latest raw result (before hysteresis), if any round ran. */
  result: CheckResult | undefined;
  checkedAt: number | undefined;
  durationMs: number | undefined;
}

/** The component as reported: held status first, then the latest details. */
export function componentReport(c: ComponentSnapshot): ComponentReport {
  const status = reported(c.state);
  if (!c.result) return { status, error: 'not checked yet' };
  const { status: observed, ...details } = c.result;
  const out: ComponentReport = { status, ...details };
  // Say why a held status differs from what was just measured (hysteresis at work).
  if (observed !== status) out.observed_status = observed;
  if (c.state.kind === 'failing' && c.state.passes > 0) out.consecutive_passes = c.state.passes;
  if (!c.def.critical) out.critical = false;
  return out;
}

export function inGroup(c: ComponentSnapshot, group: Group | undefined): boolean {
  return group === undefined || c.def.groups.includes(group);
}

/** Seed policy: any critical component degraded or unhealthy makes the whole unhealthy. */
export function aggregate(components: readonly ComponentSnapshot[], group?: Group): Status {
  for (const c of components) {
    if (!c.def.critical || !inGroup(c, group)) continue;
    if (reported(c.state) !== 'healthy') return 'unhealthy';
  }
  return 'healthy';
}

export function buildReport(
  components: readonly ComponentSnapshot[],
  timestamp: number,
  group?: Group,
): HealthReport {
  const out: HealthReport = {
    status: aggregate(components, group),
    timestamp: new Date(timestamp).toISOString(),
    components: {},
  };
  for (const c of components) if (inGroup(c, group)) out.components[c.name] = componentReport(c);
  return out;
}
