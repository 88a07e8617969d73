import type { PipelineLike, ScriptClient } from './client.js';
import type { LockScript } from './scripts.js';

type Arg = string | number;

/** A node did not answer within `requestTimeoutMs` (it may still run the call later). */
export class NodeTimeoutError extends Error {
  override readonly name = 'NodeTimeoutError';
}

/** `WAIT` was answered with an error: the server (or a proxy in front of it) does not support it. */
export class WaitUnsupportedError extends Error {
  override readonly name = 'WaitUnsupportedError';
}

/** Fewer replicas than `replicaAcks` acknowledged the write in time. */
export class ReplicaAcksError extends Error {
  override readonly name = 'ReplicaAcksError';
  constructor(
    readonly acked: number,
    readonly wanted: number,
  ) {
    super(`${acked} of ${wanted} replica acknowledgements`);
  }
}

const isNoScript = (err: unknown) => err instanceof Error && err.message.startsWith('NOSCRIPT');
const isRedirect = (err: unknown) =>
  err instanceof Error && /^(MOVED|ASK|TRYAGAIN|CLUSTERDOWN)\b/.test(err.message);

/** One Redis endpoint (a master, or a whole Cluster) and how scripts are called on it. */
export class LockNode {
  constructor(
    readonly label: string,
    readonly client: ScriptClient,
    private readonly replicaAcks: number,
    private readonly replicaAckTimeoutMs: number,
  ) {}

  /** Runs `script` by SHA (loading it on NOSCRIPT), then `WAIT` when `write` and `replicaAcks > 0`. */
  run(script: LockScript, keys: string[], args: Arg[], write: boolean): Promise<unknown> {
    return write && this.replicaAcks > 0
      ? this.#runWaited(script, keys, args)
      : this.#run(script, keys, args);
  }

  async #run(script: LockScript, keys: string[], args: Arg[]): Promise<unknown> {
    try {
      return await this.client.evalsha(script.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!isNoScript(err)) throw err;
      return this.client.eval(script.source, keys.length, ...keys, ...args);
    }
  }

  // The write and its WAIT travel in one pipeline: one round trip, and WAIT covers exactly this write.
  async #runWaited(script: LockScript, keys: string[], args: Arg[]): Promise<unknown> {
    const send = (p: PipelineLike, bySha: boolean) =>
      (bySha
        ? p.evalsha(script.sha, keys.length, ...keys, ...args)
        : p.eval(script.source, keys.length, ...keys, ...args)
      )
        .call('WAIT', this.replicaAcks, this.replicaAckTimeoutMs)
        .exec();
    let replies = await send(this.client.pipeline(), true);
    if (replies?.[0]?.[0] && isNoScript(replies[0][0])) replies = await send(this.client.pipeline(), false);
    // A Cluster pipeline does not follow a MOVED on its own (e.g. right after a failover): refresh the
    // slot map and send it again, a bounded number of times.
    for (let retry = 0; retry < 3 && isRedirect(replies?.[0]?.[0]); retry++) {
      await new Promise<void>((resolve) =>
        this.client.refreshSlotsCache ? this.client.refreshSlotsCache(() => resolve()) : resolve(),
      );
      replies = await send(this.client.pipeline(), true);
      if (replies?.[0]?.[0] && isNoScript(replies[0][0])) replies = await send(this.client.pipeline(), false);
    }
    const [scriptErr, reply] = replies?.[0] ?? [new Error('empty pipeline reply'), undefined];
    if (scriptErr) throw scriptErr;
    const [waitErr, acked] = replies?.[1] ?? [new Error('missing WAIT reply'), undefined];
    if (waitErr) throw new WaitUnsupportedError(`WAIT failed: ${waitErr.message}`, { cause: waitErr });
    if (Number(acked) < this.replicaAcks) throw new ReplicaAcksError(Number(acked), this.replicaAcks);
    return reply;
  }
}
