import applyLua from './lua/apply-4.lua';
import extendLua from './lua/lease-extend-1.lua';
import releaseLua from './lua/lease-release-1.lua';
import markLua from './lua/mark-1.lua';
import progressLua from './lua/progress-2.lua';
import readLua from './lua/read-4.lua';
import type { StateCacheRedis } from './types.js';

/**
 * Script names carry a version, so two library versions sharing one Redis never run each other's
 * scripts. ioredis `defineCommand` calls them by SHA and falls back to EVAL on NOSCRIPT.
 */
const definitions = {
  cxkit_sc_v1_apply: { numberOfKeys: 4, lua: applyLua },
  // v2: also reads the tombstone expiries (KEYS[4]).
  cxkit_sc_v2_read: { numberOfKeys: 4, lua: readLua },
  cxkit_sc_v1_lease_extend: { numberOfKeys: 1, lua: extendLua },
  cxkit_sc_v1_lease_release: { numberOfKeys: 1, lua: releaseLua },
  cxkit_sc_v1_progress: { numberOfKeys: 2, lua: progressLua },
  cxkit_sc_v1_mark: { numberOfKeys: 1, lua: markLua },
} as const;

export type ScriptName = keyof typeof definitions;
type Reply = string | number | null | Reply[];
type ScriptFn = (...args: (string | number)[]) => Promise<Reply>;
/** A client, or a pipeline of it, with the scripts defined. */
export type WithScripts = { [K in ScriptName]: ScriptFn };

const registered = new WeakSet<object>();

/** Defines the scripts on `redis` once; later calls are no-ops. */
export function registerScripts(redis: StateCacheRedis): void {
  if (registered.has(redis)) return;
  for (const [name, def] of Object.entries(definitions)) {
    if (typeof (redis as unknown as Record<string, unknown>)[name] !== 'function') {
      redis.defineCommand(name, { numberOfKeys: def.numberOfKeys, lua: def.lua });
    }
  }
  registered.add(redis);
}

/** The same client, typed with its scripts. */
export function scripted(redis: StateCacheRedis): WithScripts {
  return redis as unknown as WithScripts;
}

/** Whether the client is an ioredis Cluster (pipelines must then stay on one node). */
export function isCluster(redis: StateCacheRedis): boolean {
  return (redis as { isCluster?: boolean }).isCluster === true;
}

/**
 * Runs several script calls in one round trip: one pipeline on a single node; on a Cluster the calls
 * are issued together (ioredis groups them per node) because a pipeline must not span nodes.
 */
export async function runBatch(
  redis: StateCacheRedis,
  calls: { name: ScriptName; args: (string | number)[] }[],
): Promise<Reply[]> {
  if (calls.length === 0) return [];
  if (isCluster(redis) || calls.length === 1) {
    const client = scripted(redis);
    return Promise.all(calls.map((c) => client[c.name](...c.args)));
  }
  const pipeline = redis.pipeline() as unknown as WithScripts & {
    exec(): Promise<[Error | null, Reply][] | null>;
  };
  for (const c of calls) pipeline[c.name](...c.args);
  const results = (await pipeline.exec()) ?? [];
  return results.map(([err, reply]) => {
    if (err) throw err;
    return reply;
  });
}

export type { Reply };
