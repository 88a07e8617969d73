export { isStateCacheClosedError, StateCacheClosedError } from './closed-error.js';
export { ConfigError, isConfigError } from './config-error.js';
export { InvalidEventError, isInvalidEventError } from './invalid-event-error.js';
export { isRebuildError, RebuildError } from './rebuild-error.js';
export { isStateCacheError, StateCacheError } from './state-cache-error.js';
export { isRedisUnavailableError, RedisUnavailableError } from './unavailable-error.js';
