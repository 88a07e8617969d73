import { setTimeout as sleep } from 'node:timers/promises';
import type { PipelineLike, ScriptClient } from './client.js';
import { isNoScript, redirectOf } from './redis-errors.js';
import type { LockScript } from './scripts.js';

type Arg = string | number;
type Replies = [Error | null, unknown][];

/** ioredis' own pause before it sends a call again after TRYAGAIN or CLUSTERDOWN (`retryDelayOnTryAgain`). */
const RETRY_DELAY_MS = 100;
/** ioredis' own bound on the redirections of one call (`maxRedirections`). */
const MAX_REDIRECTIONS = 16;

/** A Cluster master's own connection, as ioredis' `Cluster.nodes()` lists it. */
interface NodeClient {
  options?: { host?: string; port?: number };
  pipeline(): PipelineLike;
}

/**
 * Sends a write and its `WAIT` in one pipeline (one round trip; WAIT covers exactly this write) and
 * returns both replies. ioredis does not follow a redirection of such a pipeline on its own (WAIT is
 * not read-only), so on a Cluster this does: MOVED refreshes the slot map, ASK sends the call to the
 * importing node after ASKING, TRYAGAIN (a multi-key call while the slot's keys move) and CLUSTERDOWN
 * wait a little. It stops after `budgetMs` or MAX_REDIRECTIONS and returns the last replies.
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
    const redirect = redirectOf(replies[0]?.[0]);
    if (!redirect || redirections >= MAX_REDIRECTIONS || performance.now() >= deadline) return replies;
    const importing = redirect.kind === 'ASK' && nodeAt(client, redirect.address);
    if (importing) {
      [target, asking] = [importing, true];
      continue;
    }
    [target, asking] = [client, false];
    if (redirect.kind !== 'MOVED') await sleep(Math.min(RETRY_DELAY_MS, deadline - performance.now()));
    if (redirect.kind !== 'TRYAGAIN') await refresh(client);
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

/** The connection of the master at `address` (`host:port`), if the Cluster client knows it. */
function nodeAt(client: ScriptClient, address: string | undefined): NodeClient | undefined {
  if (!address || !client.nodes) return undefined;
  return client.nodes('master').find((n) => `${n.options?.host}:${n.options?.port}` === address);
}

function refresh(client: ScriptClient): Promise<void> {
  return new Promise<void>((resolve) =>
    client.refreshSlotsCache ? client.refreshSlotsCache(() => resolve()) : resolve(),
  );
}
