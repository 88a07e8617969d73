export {
  type BreakerState,
  DependencyBreaker,
  type DependencyBreakerEvents,
  type DependencyBreakerOptions,
  dependencyBreaker,
} from './breaker.js';
export { type ApplicationCheckOptions, applicationCheck } from './checks/application.js';
export { type BreakerCheckOptions, breakerCheck } from './checks/breaker.js';
export { type HttpLatencyCheckOptions, httpLatencyCheck } from './checks/http-latency.js';
export {
  type PostgresReplicationCheckOptions,
  postgresReplicationCheck,
  type Queryable,
} from './checks/postgres-replication.js';
export {
  type ClusterLike,
  type RedisLike,
  type RedisQuorumCheckOptions,
  redisQuorumCheck,
} from './checks/redis-quorum.js';
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
export {
  FailoverCoordinator,
  type FailoverCoordinatorOptions,
  type FailoverDecision,
  type FailoverEvents,
  type VoteCount,
} from './failover/coordinator.js';
export type { FailoverRedis } from './failover/scripts.js';
export {
  HEALTH_JSON_TYPE,
  type HealthJson,
  type HealthJsonCheck,
  type HealthJsonStatus,
  toHealthJson,
} from './health-json.js';
export { type HealthHandler, healthHandler } from './http/node.js';
export { type HealthHttpOptions, type HealthResponse, healthResponse } from './http/respond.js';
export { HealthMonitor, type HealthMonitorEvents } from './monitor.js';
export type { HealthJsonService, HealthMonitorOptions } from './options.js';
export { RetryBudget, type RetryBudgetOptions } from './retry-budget.js';
export {
  GracefulShutdown,
  type GracefulShutdownEvents,
  type GracefulShutdownOptions,
  gracefulShutdown,
  type ShutdownResource,
  type ShutdownResult,
} from './shutdown.js';
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
  Unsubscribe,
} from './types.js';
