import { hostname } from 'node:os';
import { z } from 'zod';
import { POD_NAME } from './http/lock-owner.js';

/** Comma-separated list of URLs, e.g. `redis://a:6379,redis://b:6379`. */
const urlList = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((u) => u.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.url()).min(1));

const ms = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/**
 * Everything a region process reads from its environment, validated once at start-up. Defaults are the
 * seed's numbers (lock TTL 15 s, heartbeat 5 s, stale after 15 s, recover after 3 healthy rounds).
 */
export const regionConfigSchema = z
  .object({
    REGION: z.string().regex(/^[a-z0-9-]{2,40}$/, 'lowercase region name like us-east-1'),
    HOST: z.string().default('0.0.0.0'),
    PORT: z.coerce.number().int().min(0).max(65535).default(8080),
    DATABASE_URL: z.url(),
    DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
    /**
     * Named prepared statements (parse once per connection). Turn off where connections share server
     * sessions: PgBouncer in transaction pooling mode, or PGlite served over the wire.
     */
    DATABASE_PREPARED_STATEMENTS: z
      .enum(['true', 'false'])
      .default('true')
      .transform((v) => v === 'true'),
    /** The first node also holds dedup markers, checkpoints, agent state and the BullMQ queues. */
    REDIS_NODES: urlList.optional(),
    REDIS_URL: z.url().optional(),
    /**
     * Longest wait for a Redis reply on the request path (dedup, checkpoints, agent state, queue hand-off):
     * a node that stops answering without closing the connection fails the request instead of hanging it.
     */
    REDIS_COMMAND_TIMEOUT_MS: ms(2_000),
    JWT_SECRET: z.string().min(32, 'use at least 32 characters for an HS256 key').optional(),
    JWKS_URL: z.url().optional(),
    JWT_ISSUER: z.string().optional(),
    JWT_AUDIENCE: z.string().optional(),
    BODY_LIMIT_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .default(64 * 1024),
    RATE_LIMIT_MAX: z.coerce.number().int().positive().default(1000),
    RATE_LIMIT_WINDOW_MS: ms(1000),
    LOCK_TTL_MS: ms(15_000),
    LOCK_HEARTBEAT_MS: ms(5_000),
    LOCK_STALE_AFTER_MS: ms(15_000),
    /** Longest `lock_ttl_ms` accepted; also how long a lock node that restarted empty sits out of the quorum. */
    LOCK_MAX_TTL_MS: ms(60_000),
    /** The flow-variable schema this region's flows run (regions roll out new flow versions one by one). */
    FLOW_SCHEMA_VERSION: z.coerce.number().int().min(1).max(2).default(2),
    CHECKPOINT_TTL_SECONDS: z.coerce.number().int().positive().default(3600),
    IDEMPOTENCY_TTL_SECONDS: z.coerce
      .number()
      .int()
      .positive()
      .default(24 * 3600),
    DEDUP_WINDOW_MS: ms(24 * 3600 * 1000),
    HEALTH_INTERVAL_MS: ms(5_000),
    HEALTH_TIMEOUT_MS: ms(1_000),
    HEALTH_RECOVER_AFTER: z.coerce.number().int().positive().default(3),
    DB_MAX_LAG_MS: ms(50),
    /** p99 event-loop delay above which the `application` component is degraded. */
    HEALTH_MAX_EVENT_LOOP_DELAY_MS: ms(200),
    /** `name=url` pairs probed by the platform_connectivity check, e.g. `genesys_cloud=https://...`. */
    PLATFORM_URLS: z.string().default(''),
    /** Delay between failing readiness and closing the listener on SIGTERM (see k8s preStop). */
    SHUTDOWN_DRAIN_MS: z.coerce.number().int().min(0).default(5_000),
    /**
     * This process's name among the region's pods (one DNS label; k8s: the pod name). With
     * PEER_URL_TEMPLATE set it prefixes every `lock_token` this process grants, so another pod can
     * forward the lock's heartbeat and release here.
     */
    POD_NAME: z
      .string()
      .regex(POD_NAME, 'one lowercase DNS label, like contact-center-0')
      .default(defaultPodName()),
    /**
     * The origin by which pods reach each other, `{pod}` in its host standing for a pod name (k8s:
     * `http://{pod}.contact-center.contact-center.svc.cluster.local:8080`, the headless Service). Set, a
     * `lock_token` names its pod and other pods forward its heartbeat and release there; empty, tokens
     * are bare and those calls must reach the pod that granted the lock.
     */
    PEER_URL_TEMPLATE: z
      .string()
      .default('')
      .refine((t) => t === '' || isPeerTemplate(t), {
        message: 'an origin with {pod} in its host, like http://{pod}.contact-center:8080',
      }),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .refine((c) => c.REDIS_NODES !== undefined || c.REDIS_URL !== undefined, {
    path: ['REDIS_NODES'],
    message: 'set REDIS_NODES (comma-separated) or REDIS_URL',
  })
  .refine((c) => c.JWT_SECRET !== undefined || c.JWKS_URL !== undefined, {
    path: ['JWT_SECRET'],
    message: 'set JWT_SECRET (HS256 shared key) or JWKS_URL',
  });

/** A URL that is an origin only (no path, query or fragment), with `{pod}` in its host name. */
function isPeerTemplate(template: string): boolean {
  if (!template.includes('{pod}')) return false;
  try {
    const url = new URL(template.replaceAll('{pod}', 'pod-0'));
    return (
      url.hostname.includes('pod-0') &&
      (url.protocol === 'http:' || url.protocol === 'https:') &&
      url.pathname === '/' &&
      url.search === '' &&
      url.hash === '' &&
      !template.replaceAll('{pod}', '').includes('@')
    );
  } catch {
    return false;
  }
}

/** The host name's first label, lowercased, as a DNS label (`local` if nothing of it is usable). */
function defaultPodName(): string {
  const label = (hostname().split('.')[0] ?? '')
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .slice(0, 63)
    .replace(/^-+|-+$/g, '');
  return POD_NAME.test(label) ? label : 'local';
}

export type RegionConfig = z.output<typeof regionConfigSchema> & { redisNodes: string[] };

/** Raised at start-up when the environment is incomplete; names every offending variable. */
export class ConfigError extends TypeError {
  readonly code = 'CONFIG_INVALID';
  constructor(readonly issues: { variable: string; message: string }[]) {
    super(`invalid configuration: ${issues.map((i) => `${i.variable}: ${i.message}`).join('; ')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): RegionConfig {
  const parsed = regionConfigSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => ({ variable: String(i.path[0] ?? '?'), message: i.message })),
    );
  }
  const c = parsed.data;
  return { ...c, redisNodes: c.REDIS_NODES ?? [c.REDIS_URL as string] };
}

/** `genesys_cloud=http://a,cxone=http://b` -> `{ genesys_cloud: 'http://a', cxone: 'http://b' }`. */
export function parsePlatformUrls(value: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of value.split(',').map((s) => s.trim())) {
    if (!pair) continue;
    const at = pair.indexOf('=');
    if (at <= 0)
      throw new ConfigError([{ variable: 'PLATFORM_URLS', message: `expected name=url, got ${pair}` }]);
    out[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return out;
}
