import type { KeySpace } from './keys.js';
import { scripted } from './scripts.js';
import { bounded } from './timeout.js';
import type { StateCacheRedis } from './types.js';

/**
 * The rebuild lease: SET NX PX so one instance rebuilds, a heartbeat that extends it, and an abort
 * signal that fires as soon as the holder can no longer prove it still holds it.
 */
export class RebuildLease {
  #timer: NodeJS.Timeout | undefined;
  #controller = new AbortController();

  constructor(
    private readonly redis: StateCacheRedis,
    private readonly keys: KeySpace,
    readonly holder: string,
    private readonly ttlMs: number,
    private readonly heartbeatMs: number,
    private readonly timeoutMs: number,
  ) {}

  /** Aborts when the lease is lost (heartbeat refused or failing for longer than the TTL). */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  async acquire(): Promise<boolean> {
    const ok = await bounded(
      'lease',
      this.timeoutMs,
      this.redis.set(this.keys.lease, this.holder, 'PX', this.ttlMs, 'NX'),
    );
    if (ok !== 'OK') return false;
    this.#controller = new AbortController();
    let lastExtended = Date.now();
    this.#timer = setInterval(() => {
      this.extend()
        .then((held) => {
          if (held) lastExtended = Date.now();
          else this.#controller.abort(new Error('rebuild lease taken over'));
        })
        .catch(() => {
          if (Date.now() - lastExtended >= this.ttlMs)
            this.#controller.abort(new Error('rebuild lease expired'));
        });
    }, this.heartbeatMs);
    this.#timer.unref();
    return true;
  }

  async extend(): Promise<boolean> {
    const r = await bounded(
      'lease',
      this.timeoutMs,
      scripted(this.redis).cxkit_sc_v1_lease_extend(this.keys.lease, this.holder, this.ttlMs),
    );
    return Number(r) === 1;
  }

  /** Stops the heartbeat and deletes the lease if still ours (best effort: it expires anyway). */
  async release(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await bounded(
      'lease',
      this.timeoutMs,
      scripted(this.redis).cxkit_sc_v1_lease_release(this.keys.lease, this.holder),
    ).catch(() => {});
  }
}
