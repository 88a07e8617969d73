import { Emitter } from '@cxkit/internal';
import { z } from 'zod';
import { untilAborted } from '../checks/probe-gate.js';
import { defaults } from '../defaults.js';
import { ConfigError, FailoverError } from '../errors.js';
import type { HealthMonitor } from '../monitor.js';
import { parseWith } from '../options.js';
import type { Logger, Unsubscribe } from '../types.js';
import decideLua from './decide-3.lua';
import { type FailoverRedis, run, script } from './scripts.js';
import type { FailoverDecision, FailoverEvents, Recorded } from './types.js';
import voteLua from './vote-1.lua';

const VOTE = script(voteLua);
const DECIDE = script(decideLua);

const name = z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only');
const schema = z
  .object({
    redis: z.custom<FailoverRedis>((v) => typeof (v as FailoverRedis)?.call === 'function', {
      message: 'expected an ioredis client or Cluster',
    }),
    region: name,
    regions: z.array(name).min(1),
    ttlMs: z.number().int().positive().default(defaults.voteTtlMs),
    namespace: name.default('cxkit:failover'),
    historyLimit: z.number().int().positive().max(10_000).default(100),
    logger: z.custom<Logger>((v) => typeof v === 'object' && v !== null).optional(),
  })
  .strict();

export type FailoverCoordinatorOptions = z.input<typeof schema>;
export type { FailoverDecision, FailoverEvents, VoteCount } from './types.js';

/**
 * The region vote of seed 001 section 4: each region publishes its view of the primary with a TTL
 * (Redis server time), and a failover is decided only when a strict majority of all configured
 * regions vote the primary down. The decision is a compare-and-set on the leader record inside one
 * Lua script, so concurrent deciders record at most one new primary per epoch.
 */
export class FailoverCoordinator {
  readonly region: string;
  readonly regions: readonly string[];
  readonly #o: z.output<typeof schema>;
  readonly #events: Emitter<FailoverEvents>;

  constructor(options: FailoverCoordinatorOptions) {
    this.#o = parseWith(schema, options, 'FailoverCoordinator');
    if (new Set(this.#o.regions).size !== this.#o.regions.length) {
      throw new ConfigError('FailoverCoordinator.regions', 'regions must be unique');
    }
    if (!this.#o.regions.includes(this.#o.region)) {
      throw new ConfigError('FailoverCoordinator.region', `"${this.#o.region}" is not one of regions`);
    }
    this.region = this.#o.region;
    this.regions = Object.freeze([...this.#o.regions]);
    this.#events = new Emitter({
      onListenerError: (err) => this.#o.logger?.error?.({ err }, 'failover: listener threw'),
    });
  }

  on<K extends keyof FailoverEvents>(event: K, listener: (payload: FailoverEvents[K]) => void): Unsubscribe {
    return this.#events.on(event, listener);
  }

  #key(...parts: string[]): string {
    // One hash tag for every key, so the decide script works on a Redis Cluster too.
    return [`{${this.#o.namespace}}`, ...parts].join(':');
  }

  #primary(primary: string): string {
    if (!this.regions.includes(primary))
      throw new ConfigError('primary', `"${primary}" is not one of regions`);
    return primary;
  }

  async #call<T>(what: string, p: Promise<T>, signal?: AbortSignal): Promise<T> {
    try {
      return await (signal ? untilAborted(p, signal) : p);
    } catch (err) {
      throw new FailoverError(`failover ${what} failed: ${(err as Error).message}`, err);
    }
  }

  /** Publishes this region's view of `primary`; it counts for `ttlMs` unless renewed. */
  async vote(primary: string, healthy: boolean, signal?: AbortSignal): Promise<void> {
    const key = this.#key('votes', this.#primary(primary));
    const args = [this.region, healthy ? 'up' : 'down', this.#o.ttlMs];
    await this.#call('vote', run(this.#o.redis, VOTE, [key], args), signal);
  }

  /**
   * Decides whether to fail over away from `primary` (to `candidate`, this region by default).
   * `failover: true` only with a strict majority of regions voting it down; `recorded` tells the
   * one caller whose call made the decision; every other caller for that epoch gets the same
   * decision with `recorded: false`.
   */
  async decide(
    primary: string,
    options: { candidate?: string; signal?: AbortSignal } = {},
  ): Promise<FailoverDecision> {
    this.#primary(primary);
    const candidate = options.candidate ?? this.region;
    if (!this.regions.includes(candidate) || candidate === primary) {
      throw new ConfigError(
        'candidate',
        `must be one of regions and differ from the primary, got "${candidate}"`,
      );
    }
    const keys = [this.#key('leader'), this.#key('decisions'), this.#key('votes', primary)];
    const args = [primary, candidate, this.region, this.#o.historyLimit, ...this.regions];
    const reply = (await this.#call('decide', run(this.#o.redis, DECIDE, keys, args), options.signal)) as [
      string,
      number,
      string,
      number,
      number,
      string,
    ];
    const [code, epoch, current, down, up, json] = reply;
    const votes = { down, up, missing: this.regions.length - down - up };
    const recorded = json ? (JSON.parse(json) as Recorded) : undefined;
    if (code === 'no-majority')
      return { failover: false, reason: 'no-majority', epoch, primary: current, votes };
    if (!recorded || recorded.from !== primary) {
      return { failover: false, reason: 'primary-changed', epoch, primary: current, votes };
    }
    const decision = {
      failover: true as const,
      recorded: code === 'decided',
      epoch: recorded.epoch,
      from: recorded.from,
      to: recorded.to,
      decidedBy: recorded.decided_by,
      decidedAt: new Date(recorded.decided_at),
      votes,
    };
    if (decision.recorded) {
      this.#o.logger?.warn?.(
        { ...decision },
        `failover: ${primary} -> ${decision.to} at epoch ${decision.epoch}`,
      );
      this.#events.emit('decision', decision);
    }
    return decision;
  }

  /** The current primary and epoch as recorded, or undefined before the first decision. */
  async leader(
    signal?: AbortSignal,
  ): Promise<{ epoch: number; primary: string; decidedBy?: string } | undefined> {
    const h = (await this.#call('leader', this.#o.redis.call('HGETALL', this.#key('leader')), signal)) as
      | string[]
      | Record<string, string>;
    const rec = Array.isArray(h)
      ? Object.fromEntries(h.flatMap((v, i, a) => (i % 2 ? [] : [[v, a[i + 1]]])))
      : h;
    if (!rec?.primary) return undefined;
    return { epoch: Number(rec.epoch), primary: rec.primary, decidedBy: rec.decided_by };
  }

  /**
   * Votes on every round of `monitor`: down when its report (or the named component) is not
   * healthy. The monitor should check the primary as this region sees it. A draining monitor (this
   * instance shutting down) does not vote: its report is unhealthy for its own sake, not the primary's,
   * and its last vote expires instead.
   */
  publishFrom(monitor: HealthMonitor, primary: string, options: { component?: string } = {}): Unsubscribe {
    this.#primary(primary);
    return monitor.on('round', ({ report }) => {
      if (monitor.draining) return;
      const status = options.component ? report.components[options.component]?.status : report.status;
      this.vote(primary, status === 'healthy').catch((err: unknown) =>
        this.#o.logger?.warn?.({ err, primary }, 'failover: vote not published'),
      );
    });
  }
}
