/** Rejects when `signal` aborts, so a hung dependency cannot hold the check past its timeout. */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    // The command was already sent: its late failure (e.g. the connection closing) must not surface
    // as an unhandled rejection.
    promise.catch(() => {});
    return Promise.reject(new Error('no answer before the timeout'));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Error('no answer before the timeout'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/**
 * Keeps at most one probe outstanding per key (a Redis node's client, a Postgres pool). Drivers
 * cannot take back a command once sent, so against a dependency that hangs (SIGSTOP, partition) a
 * new probe every round would pile up in the client's queue or the pool. A round that finds a probe
 * outstanding waits on that one until its own signal aborts, and sends nothing.
 */
export class ProbeGate<K, T> {
  readonly #pending = new Map<K, Promise<T>>();

  run(key: K, probe: () => Promise<T>, signal: AbortSignal): Promise<T> {
    let p = this.#pending.get(key);
    if (!p) {
      p = probe().finally(() => this.#pending.delete(key));
      this.#pending.set(key, p);
    }
    return untilAborted(p, signal);
  }
}
