import { configErrorMap, describeConfigIssue } from '@cxkit/internal';
import { z } from 'zod';
import { defaults } from './defaults.js';
import { ConfigError } from './errors.js';
import type { CheckDefinition, CheckFn, Logger } from './types.js';

const fn = <T>(what: string) =>
  z.custom<T>((v) => typeof v === 'function', { message: `expected ${what} (a function)` });
const ms = z.number().int().positive();

const definition = z.object({
  check: fn<CheckFn>('check(signal)'),
  critical: z.boolean().optional(),
  groups: z.array(z.string().min(1)).optional(),
  timeoutMs: ms.optional(),
  observe: fn<NonNullable<CheckDefinition['observe']>>('observe(result)').optional(),
  componentType: z.string().optional(),
  close: fn<() => void>('close()').optional(),
});

const loggerSchema = z.custom<Logger>((v) => typeof v === 'object' && v !== null, {
  message: 'expected a pino-compatible logger object',
});

export const monitorOptionsSchema = z
  .object({
    checks: z
      .record(
        z.string().regex(/^[A-Za-z0-9_.-]+$/, 'component names use letters, digits, _ . - (no ":")'),
        z.union([fn<CheckFn>('check(signal)'), definition]),
      )
      .refine((r) => Object.keys(r).length > 0, 'at least one check is required'),
    timeoutMs: ms.default(defaults.timeoutMs),
    intervalMs: ms.default(defaults.intervalMs),
    recoverAfter: ms.default(defaults.recoverAfter),
    failAfter: ms.default(defaults.failAfter),
    maxStalenessMs: ms.optional(),
    abortGraceMs: z.number().int().nonnegative().default(defaults.abortGraceMs),
    logger: loggerSchema.optional(),
    service: z
      .object({
        serviceId: z.string().optional(),
        version: z.string().optional(),
        releaseId: z.string().optional(),
        description: z.string().optional(),
        notes: z.array(z.string()).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

/** Options of `new HealthMonitor(...)`. */
export interface HealthMonitorOptions {
  /** Named checks; the name is the component key in the report (letters, digits, `_ . -`). */
  checks: Record<string, CheckFn | CheckDefinition>;
  /** Per-check timeout; the check's AbortSignal fires then. @default 2000 */
  timeoutMs?: number;
  /** Pause between background rounds. @default 5000 */
  intervalMs?: number;
  /** Consecutive healthy rounds before a failing component counts as healthy again. @default 3 */
  recoverAfter?: number;
  /** Consecutive failed rounds before a healthy component counts as failing. @default 1 */
  failAfter?: number;
  /** A snapshot older than this reports unhealthy. @default 3 * (intervalMs + longest check timeout + abortGraceMs) */
  maxStalenessMs?: number;
  /** Grace after a timeout for a check to return partial details. @default 100 */
  abortGraceMs?: number;
  /** Pino-compatible logger. */
  logger?: Logger;
  /** Service metadata for IETF health+json (`serviceId`, `version`, `releaseId`, `description`, `notes`). */
  service?: HealthJsonService;
}

export interface HealthJsonService {
  serviceId?: string;
  version?: string;
  releaseId?: string;
  description?: string;
  notes?: string[];
}

export interface ResolvedMonitorOptions {
  checks: Map<string, Required<Pick<CheckDefinition, 'critical' | 'groups' | 'timeoutMs'>> & CheckDefinition>;
  timeoutMs: number;
  intervalMs: number;
  recoverAfter: number;
  failAfter: number;
  maxStalenessMs: number;
  abortGraceMs: number;
  logger: Logger | undefined;
  service: HealthJsonService | undefined;
}

/** Validates with zod once and fills defaults; a bad option throws `ConfigError` naming the field. */
export function parseWith<S extends z.ZodType>(schema: S, input: unknown, prefix = ''): z.output<S> {
  const parsed = schema.safeParse(input ?? {}, { error: configErrorMap });
  if (parsed.success) return parsed.data;
  const { field, message } = describeConfigIssue(parsed.error.issues, prefix);
  throw new ConfigError(field, message);
}

export function resolveMonitorOptions(input: HealthMonitorOptions): ResolvedMonitorOptions {
  const o = parseWith(monitorOptionsSchema, input);
  const checks: ResolvedMonitorOptions['checks'] = new Map();
  for (const [name, entry] of Object.entries(o.checks)) {
    const def: CheckDefinition =
      typeof entry === 'function' ? { check: entry as CheckFn } : (entry as CheckDefinition);
    checks.set(name, {
      ...def,
      critical: def.critical ?? true,
      groups: def.groups ?? ['readiness'],
      timeoutMs: def.timeoutMs ?? o.timeoutMs,
    });
  }
  // A snapshot is stale once about three rounds were missed: long enough to ride out one slow round.
  // A round lasts as long as its slowest check may (its own timeout plus the abort grace), so one
  // check with a long timeout lengthens every round and must not make snapshots look stale.
  const longestRoundMs =
    Math.max(...[...checks.values()].map((c) => c.timeoutMs), o.timeoutMs) + o.abortGraceMs;
  const maxStalenessMs = o.maxStalenessMs ?? 3 * (o.intervalMs + longestRoundMs);
  if (maxStalenessMs <= o.intervalMs) {
    throw new ConfigError(
      'maxStalenessMs',
      `must exceed intervalMs (${o.intervalMs}), got ${maxStalenessMs}`,
    );
  }
  return { ...o, checks, maxStalenessMs, logger: o.logger, service: o.service };
}
