import { setTimeout as sleep } from 'node:timers/promises';
import type { PipelineLike, ScriptClient } from './client.js';
import { isNoScript, redirectOf } from './redis-errors.js';
import type { LockScript } from './scripts.js';

type Arg = string | number;
type Replies = [Error | null, unknown][];

/** ioredis' own pause before it sends a call again after TRYAGAIN or CLUSTERDOWN (`retryDelayOnTryAgain`). */
const RETRY_DELAY_MS = 100;
/** Bounds the round trips of redirections that do not pause (MOVED, ASK) if nodes disagree for long. */
const MAX_REDIRECTIONS = 32;

/** A Cluster master's own connection, as ioredis' connection pool holds it. */
interface NodeClient {
  pipeline(): PipelineLike;
}

/**
 * Sends a write and its `WAIT` in one pipeline (one round trip; WAIT covers exactly this write) and
 * returns both replies. ioredis does not follow a redirection of such a pipeline on its own (WAIT is
 * not read-only), so on a Cluster this does, as ioredis does for a single command: MOVED and ASK send
 * the call to the node they name (ASK after `ASKING`, for this call only) and refresh the slot map,
 * TRYAGAIN (a migration has moved some of the call's keys) and CLUSTERDOWN ask again after a pause.
 * No call is sent after `budgetMs`, so the last one has the rest of the caller's timeout to answer:
 * a write that lands after the caller gave up would hold a lock nobody knows of.
 */
export async function sendWaited(
  client: ScriptClient,
  script: LockScript,
  keys: string[],
  args: Arg[],
  wait: [replicas: number, timeoutMs: number],
  budgetMs: number,
): Promise<Replies> {
  const deadline = performance.now() + budgetMs;
  let target: NodeClient = client;
  let asking = false;
  for (let redirections = 0; ; redirections++) {
    const replies = await once(target, asking, script, keys, args, wait);
    const redirect = client.isCluster ? redirectOf(replies[0]?.[0]) : undefined;
    if (!redirect || redirections >= MAX_REDIRECTIONS) return replies;
    const named =
      redirect.kind === 'MOVED' || redirect.kind === 'ASK' ? nodeAt(client, redirect.address) : undefined;
    if (redirect.kind !== 'ASK') refresh(client);
    [target, asking] = named ? [named, redirect.kind === 'ASK'] : [client, false];
    const pause = named ? 0 : RETRY_DELAY_MS;
    if (performance.now() + pause >= deadline) return replies;
    if (pause > 0) await sleep(pause);
  }
}

async function once(
  target: NodeClient,
  asking: boolean,
  script: LockScript,
  keys: string[],
  args: Arg[],
  [replicas, timeoutMs]: [number, number],
): Promise<Replies> {
  const send = async (bySha: boolean) => {
    const p = target.pipeline();
    if (asking) p.call('ASKING');
    (bySha
      ? p.evalsha(script.sha, keys.length, ...keys, ...args)
      : p.eval(script.source, keys.length, ...keys, ...args)
    ).call('WAIT', replicas, timeoutMs);
    const replies = (await p.exec()) ?? [];
    return asking ? replies.slice(1) : replies;
  };
  const replies = await send(true);
  return isNoScript(replies[0]?.[0]) ? send(false) : replies;
}

/** The connection to `address` (`host:port`, as a redirection names it) from the Cluster's own pool. */
function nodeAt(client: ScriptClient, address: string | undefined): NodeClient | undefined {
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
