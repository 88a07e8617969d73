export { defaults } from './defaults.js';
export {
  BreakerOpenError,
  CheckTimeoutError,
  ConfigError,
  FailoverError,
  HealthError,
  isBreakerOpenError,
  isCheckTimeoutError,
  isConfigError,
  isFailoverError,
  isHealthError,
  isRetryBudgetExhaustedError,
  RetryBudgetExhaustedError,
} from './errors.js';
export type { Unsubscribe } from './events.js';
export {
  HEALTH_JSON_TYPE,
  type HealthJson,
  type HealthJsonCheck,
  type HealthJsonStatus,
  toHealthJson,
} from './health-json.js';
export { HealthMonitor, type HealthMonitorEvents } from './monitor.js';
export type { HealthMonitorOptions } from './options.js';
export type {
  CheckDefinition,
  CheckFn,
  CheckResult,
  ComponentReport,
  Group,
  HealthReport,
  Logger,
  Observation,
  Status,
} from './types.js';
