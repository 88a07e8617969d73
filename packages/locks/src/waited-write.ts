import { setTimeout as sleep } from 'node:timers/promises';
import type { NodeConnection, ScriptClient } from './client.js';
import { keySlot } from './key-slot.js';
import { ReplicaAcksError } from './node-errors.js';
import { isNoScript, redirectOf } from './redis-errors.js';
import type { LockScript } from './scripts.js';
import type { SharedWait } from './shared-wait.js';

type Arg = string | number;
type Reply = [Error | null, unknown];

/** ioredis' own pause before it sends a call again after TRYAGAIN or CLUSTERDOWN (`retryDelayOnTryAgain`). */
const RETRY_DELAY_MS = 100;
/** Bounds the round trips of redirections that do not pause (MOVED, ASK) if nodes disagree for long. */
const MAX_REDIRECTIONS = 32;

/** What a Cluster write with `replicaAcks` needs: the client, and the shared WAIT of a node's connection. */
export interface WaitedCluster {
  client: ScriptClient;
  waitOf(connection: NodeConnection): SharedWait;
  /** WAIT's arguments, for a write sent through the Cluster client while its slot map is unknown. */
  wait: [replicas: number, timeoutMs: number];
}

/**
 * Sends a write on a Cluster to its slot's master, on that master's own connection, then joins the
 * connection's shared WAIT (one in flight per connection, see `SharedWait`), and returns the script's
 * reply and the WAIT's. ioredis does not follow a redirection of a call sent this way, so this does,
 * as ioredis does for a single command: MOVED and ASK send the call to the node they name (ASK after
 * `ASKING`, for this call only) and refresh the slot map, TRYAGAIN (a migration has moved some of the
 * call's keys) and CLUSTERDOWN ask again after a pause. No call is sent after `budgetMs`, so the last
 * one has the rest of the caller's timeout to answer: a write that lands after the caller gave up
 * would hold a lock nobody knows of. Before the slot map is known, the write and its own WAIT go
 * through the Cluster client in one pipeline.
 */
export async function sendWaited(
  cluster: WaitedCluster,
  script: LockScript,
  keys: string[],
  args: Arg[],
  budgetMs: number,
): Promise<[Reply, Reply | undefined]> {
  const { client } = cluster;
  const deadline = performance.now() + budgetMs;
  let target = slotOwner(client, keys[0]!);
  let asking = false;
  for (let redirections = 0; ; redirections++) {
    const own = target && keysOn(client, target, keys);
    const replies =
      target && own
        ? await onConnection(target, cluster.waitOf(target), asking, script, own, args)
        : await throughCluster(client, script, keys, args, cluster.wait);
    const redirect = redirectOf(replies[0][0]);
    if (!redirect || redirections >= MAX_REDIRECTIONS) return replies;
    const named =
      redirect.kind === 'MOVED' || redirect.kind === 'ASK' ? nodeAt(client, redirect.address) : undefined;
    if (redirect.kind !== 'ASK') refresh(client);
    const pause = named ? 0 : RETRY_DELAY_MS;
    if (performance.now() + pause >= deadline) return replies;
    if (pause > 0) await sleep(pause);
    [target, asking] = named ? [named, redirect.kind === 'ASK'] : [slotOwner(client, keys[0]!), false];
  }
}

/**
 * The write on `target`'s own connection, then that connection's shared WAIT (skipped when the script
 * failed). The write goes in a pipeline of its own, which ioredis writes at once: with
 * `enableAutoPipelining` a plain call would leave on a later tick, after the WAIT meant to cover it.
 */
export async function onConnection(
  target: NodeConnection,
  wait: SharedWait,
  asking: boolean,
  script: LockScript,
  keys: string[],
  args: Arg[],
): Promise<[Reply, Reply | undefined]> {
  const send = async (bySha: boolean) => {
    const connection = wait.connection();
    const p = target.pipeline();
    if (asking) p.call('ASKING');
    if (bySha) p.evalsha(script.sha, keys.length, ...keys, ...args);
    else p.eval(script.source, keys.length, ...keys, ...args);
    const sent = p.exec();
    const waited = wait.after();
    const replies = (await sent) ?? [];
    const reply: Reply = replies[asking ? 1 : 0] ?? [new Error('empty pipeline reply'), undefined];
    return { reply, waited, connection };
  };
  let sent = await send(true);
  if (isNoScript(sent.reply[0])) sent = await send(false);
  if (sent.reply[0]) return [sent.reply, undefined];
  const waited = await sent.waited;
  // A WAIT answered on another connection than its write's (ioredis sends unanswered commands again
  // after a reconnect, the write too) does not cover it: whether a replica has the write is unknown.
  if (!wait.still(sent.connection))
    return [
      sent.reply,
      [new ReplicaAcksError(0, wait.replicas, 'the connection was replaced before WAIT answered'), undefined],
    ];
  return [sent.reply, waited];
}

/** The write and its own WAIT in one pipeline through the Cluster client (slot map not loaded yet). */
async function throughCluster(
  client: ScriptClient,
  script: LockScript,
  keys: string[],
  args: Arg[],
  [replicas, timeoutMs]: [number, number],
): Promise<[Reply, Reply | undefined]> {
  const send = async (bySha: boolean) => {
    const p = client.pipeline();
    (bySha
      ? p.evalsha(script.sha, keys.length, ...keys, ...args)
      : p.eval(script.source, keys.length, ...keys, ...args)
    ).call('WAIT', replicas, timeoutMs);
    return (await p.exec()) ?? [];
  };
  let replies = await send(true);
  if (isNoScript(replies[0]?.[0])) replies = await send(false);
  return [replies[0] ?? [new Error('empty pipeline reply'), undefined], replies[1]];
}

/** The connection of `key`'s slot owner from the Cluster's own pool, once the slot map is loaded. */
function slotOwner(client: ScriptClient, key: string): NodeConnection | undefined {
  const owner = client.slots?.[keySlot((client.options?.keyPrefix ?? '') + key)]?.[0];
  return owner === undefined ? undefined : client.connectionPool?.getInstanceByKey?.(owner);
}

/**
 * `keys` as a node's own connection must send them to reach the Cluster's keys: ioredis prefixes a
 * call with the `keyPrefix` of the connection it goes through, and the pool's node connections do not
 * take one set on the Cluster itself. Undefined when the two prefixes do not compose (the write then
 * goes through the Cluster client).
 */
function keysOn(client: ScriptClient, target: NodeConnection, keys: string[]): string[] | undefined {
  const cluster = client.options?.keyPrefix ?? '';
  const node = target.options?.keyPrefix ?? '';
  if (cluster === node) return keys;
  return node === '' ? keys.map((k) => cluster + k) : undefined;
}

/** The connection to `address` (`host:port`, as a redirection names it) from the Cluster's own pool. */
function nodeAt(client: ScriptClient, address: string | undefined): NodeConnection | undefined {
  const pool = client.connectionPool;
  if (!address || !pool) return undefined;
  // The address a node announces may differ from the one to connect to (`natMap`).
  if (client.natMapper) return pool.findOrCreate(client.natMapper(address));
  const colon = address.lastIndexOf(':');
  return pool.findOrCreate({ host: address.slice(0, colon), port: Number(address.slice(colon + 1)) });
}

/** Reloads the slot map in the background (ioredis coalesces refreshes already running). */
function refresh(client: ScriptClient): void {
  client.refreshSlotsCache?.(() => {});
}
