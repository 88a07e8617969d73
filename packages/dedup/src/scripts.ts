import type { DedupPipeline, DedupRedis } from './client.js';
import claimOneLua from './lua/claim-1.lua';
import claimLua from './lua/claim-n.lua';
import completeLua from './lua/complete-1.lua';
import heartbeatLua from './lua/heartbeat-1.lua';
import peekLua from './lua/peek-1.lua';
import releaseLua from './lua/release-1.lua';

/**
 * Versioned command names: a newer library on the same client or server registers its own scripts.
 * Bump the version whenever a script's arguments or reply change (v2: flat multi-id claim reply).
 */
export const commands = Object.freeze({
  claim: 'cxkit_dedup_v2_claim',
  claimOne: 'cxkit_dedup_v2_claim_one',
  heartbeat: 'cxkit_dedup_v2_heartbeat',
  complete: 'cxkit_dedup_v2_complete',
  release: 'cxkit_dedup_v2_release',
  peek: 'cxkit_dedup_v2_peek',
});

type Command = keyof typeof commands;
type ScriptFn = (...args: (string | number)[]) => Promise<unknown>;

const registered = new WeakSet<object>();

/**
 * Registers the scripts once per client with `defineCommand`: ioredis sends EVALSHA, falls back to
 * EVAL on NOSCRIPT, and loads scripts into pipelines and onto every Cluster node by itself.
 */
export function registerScripts(redis: DedupRedis): void {
  if (registered.has(redis)) return;
  redis.defineCommand(commands.claim, { lua: claimLua });
  redis.defineCommand(commands.claimOne, { lua: claimOneLua, numberOfKeys: 1 });
  redis.defineCommand(commands.heartbeat, { lua: heartbeatLua, numberOfKeys: 1 });
  redis.defineCommand(commands.complete, { lua: completeLua, numberOfKeys: 1 });
  redis.defineCommand(commands.release, { lua: releaseLua, numberOfKeys: 1 });
  redis.defineCommand(commands.peek, { lua: peekLua, numberOfKeys: 1 });
  registered.add(redis);
}

function call(target: DedupRedis | DedupPipeline, command: Command, args: (string | number)[]) {
  const method = (target as unknown as Record<string, ScriptFn | undefined>)[commands[command]];
  if (typeof method !== 'function')
    throw new Error(`script ${commands[command]} is not registered on this client`);
  return method.apply(target, args);
}

/** Runs a one-key script on the client; resolves to its raw reply. */
export function runScript(
  redis: DedupRedis,
  command: Exclude<Command, 'claim'>,
  key: string,
  args: (string | number)[],
): Promise<unknown> {
  return call(redis, command, [key, ...args]);
}

/** Runs (or queues, on a pipeline) the variadic claim script over `keys` (one slot on a Cluster). */
export function runClaim(target: DedupRedis | DedupPipeline, keys: string[], args: (string | number)[]) {
  return call(target, 'claim', [keys.length, ...keys, ...args]);
}
