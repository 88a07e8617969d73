/** Component and overall status, ordered best to worst. */
export type Status = 'healthy' | 'degraded' | 'unhealthy';

/** What a check resolves to: a status plus any details (reported next to `status`). */
export interface CheckResult {
  status: Status;
  [detail: string]: unknown;
}

/** A plain check: resolve a result, throw (= unhealthy) or honour `signal` (aborted on timeout). */
export type CheckFn = (signal: AbortSignal) => Promise<CheckResult> | CheckResult;

/** One `checks` entry in IETF health+json terms (draft-inadarei-api-health-check). */
export interface Observation {
  /** Measurement name; the IETF key becomes `component:measurement`. */
  measurement?: string;
  componentId?: string;
  componentType?: string;
  observedValue?: unknown;
  observedUnit?: string;
  /** Overrides the component's status for this entry. */
  status?: Status;
  output?: string;
}

/** Well-known probe groups; any other string is a custom group (`/health/<group>` is not routed). */
export type Group = 'liveness' | 'readiness' | 'startup' | (string & {});

/** A check plus how it counts. Built-in checks return this shape; spread it to override fields. */
export interface CheckDefinition {
  check: CheckFn;
  /** A non-critical component is reported but never makes the instance unhealthy. @default true */
  critical?: boolean;
  /** Probe groups the component counts toward. @default ['readiness'] */
  groups?: readonly Group[];
  /** Overrides the monitor's `timeoutMs` for this check. */
  timeoutMs?: number;
  /** Maps a result to IETF health+json observations (observedValue/observedUnit). */
  observe?: (result: CheckResult) => Observation[];
  /** Component type for IETF health+json (`datastore`, `system`, `component`, ...). */
  componentType?: string;
  /** Releases what the check holds (histograms, timers); called by `HealthMonitor.close()`. */
  close?: () => void | Promise<void>;
}

/** A component in the report: its (hysteresis-held) status and the latest details. */
export interface ComponentReport {
  status: Status;
  [detail: string]: unknown;
}

/** The report, in the seed's shape. */
export interface HealthReport {
  status: Status;
  timestamp: string;
  components: Record<string, ComponentReport>;
  /** Why the instance is unhealthy regardless of components (stale snapshot, draining, no round yet). */
  reason?: string;
}

/** Pino-compatible logger (any subset of levels is fine). */
export interface Logger {
  debug?(obj: object, msg?: string): void;
  info?(obj: object, msg?: string): void;
  warn?(obj: object, msg?: string): void;
  error?(obj: object, msg?: string): void;
}

/** Events of a `HealthMonitor`. */
export interface HealthMonitorEvents {
  /** The overall status changed (after hysteresis). */
  change: { from: Status; to: Status; report: HealthReport };
  /** One component's reported status changed (after hysteresis). */
  component: { name: string; from: Status; to: Status; result: CheckResult };
  /** A round finished. */
  round: { report: HealthReport; durationMs: number };
}

export const STATUS_ORDER: Record<Status, number> = { healthy: 0, degraded: 1, unhealthy: 2 };

export function worst(a: Status, b: Status): Status {
  return STATUS_ORDER[a] >= STATUS_ORDER[b] ? a : b;
}

/** An unsubscribe function that is also `Disposable` (works with `using`). */
export type Unsubscribe = (() => void) & Disposable;
