export { TestkitUnavailableError, UncontrolledServerError } from './errors.js';
export { type LostReplyProxy, startLostReplyProxy } from './lost-reply-proxy.js';
export { freePort } from './ports.js';
export {
  type PostgresHandle,
  type StartPostgresOptions,
  startPostgres,
  startPostgresReplication,
} from './postgres.js';
export { PostgresServer, type PostgresServerOptions } from './postgres-server.js';
export { type QuickStart, quickStart, quickStartBlock, runTs } from './quick-start.js';
export { exited, spawnReaped } from './reaper.js';
export { RedisCluster, type StartRedisClusterOptions, startRedisCluster } from './redis-cluster.js';
export { PROCESS_MARKER, RedisNode, type RedisNodeOptions } from './redis-node.js';
export {
  hasRedisServer,
  type RedisNodes,
  type StartRedisNodesOptions,
  startRedisNodes,
} from './redis-nodes.js';
export { parseInfo, redisCommand } from './resp.js';
export { repoRoot, spawnTs, tsNodeArgs } from './spawn-ts.js';
export { type RecordedSpan, recordingTracerProvider } from './tracing.js';
export { waitUntil } from './wait.js';
