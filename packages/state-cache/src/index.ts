export { defaults } from './defaults.js';
export * from './errors/index.js';
export type { Disposable, StateCacheEvents } from './events.js';
export type { StateCacheOptions } from './options.js';
export { iterableSource } from './sources/iterable.js';
export {
  decodeKafkaMessage,
  type KafkaMessageLike,
  type KafkaSourceOptions,
  kafkaSource,
} from './sources/kafka.js';
export {
  type PostgresOutboxOptions,
  type PostgresOutboxSource,
  postgresOutboxSource,
  type Queryable,
} from './sources/postgres-outbox.js';
export { StateCache } from './state-cache.js';
export type {
  ApplyResult,
  CacheEntry,
  CacheRead,
  Logger,
  SourceReadOptions,
  SourceRecord,
  StateCacheRedis,
  StateCacheStatus,
  StateEvent,
  StateEventType,
  StateSource,
  ValueSchema,
} from './types.js';
