import { z } from 'zod';
import { HEALTH_JSON_TYPE } from '../health-json.js';
import type { HealthMonitor } from '../monitor.js';
import { parseWith } from '../options.js';
import type { Group } from '../types.js';

const schema = z
  .object({
    path: z
      .string()
      .regex(/^\/[^?#]*$/, 'must start with "/"')
      .default('/health'),
    details: z.boolean().default(true),
  })
  .strict();

/** Options shared by the http handler, the fastify plugin and the express router. */
export interface HealthHttpOptions {
  /** Base path; `/live`, `/ready` and `/startup` hang below it. @default '/health' */
  path?: string;
  /** Include component details; `false` answers `{ status, timestamp }` only (public endpoints). @default true */
  details?: boolean;
}

export interface HealthResponse {
  statusCode: 200 | 503;
  headers: Record<string, string>;
  body: string;
}

const SUFFIX: Record<string, Group | undefined> = {
  '': undefined,
  '/live': 'liveness',
  '/ready': 'readiness',
  '/startup': 'startup',
};

export function resolveHttpOptions(options: HealthHttpOptions | undefined): Required<HealthHttpOptions> {
  const o = parseWith(schema, options ?? {}, 'http');
  return { ...o, path: o.path.length > 1 ? o.path.replace(/\/$/, '') : o.path };
}

/** The sub-paths served, relative to `path` (for frameworks that register routes one by one). */
export const HEALTH_ROUTES = Object.keys(SUFFIX);

/** True when `Accept` asks for the IETF format (an explicit `application/health+json`). */
export function wantsHealthJson(accept: string | string[] | undefined): boolean {
  const value = Array.isArray(accept) ? accept.join(',') : (accept ?? '');
  return value.toLowerCase().includes(HEALTH_JSON_TYPE);
}

/**
 * Builds the probe answer from the latest snapshot (never runs a check): 200 unless the view is
 * unhealthy, 503 then; `Cache-Control: no-store` so no proxy serves an old verdict.
 */
export function healthResponse(
  monitor: HealthMonitor,
  suffix: string,
  accept: string | string[] | undefined,
  o: Required<HealthHttpOptions>,
): HealthResponse | undefined {
  if (!(suffix in SUFFIX)) return undefined;
  const group = SUFFIX[suffix];
  const report = monitor.report(group);
  const statusCode = report.status === 'unhealthy' ? 503 : 200;
  const headers = { 'cache-control': 'no-store', vary: 'Accept' };
  if (wantsHealthJson(accept)) {
    const body = monitor.healthJson(group);
    if (!o.details) body.checks = {};
    return {
      statusCode,
      headers: { ...headers, 'content-type': HEALTH_JSON_TYPE },
      body: JSON.stringify(body),
    };
  }
  const body = o.details ? report : { status: report.status, timestamp: report.timestamp };
  return {
    statusCode,
    headers: { ...headers, 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify(body),
  };
}

/** `suffix` of `pathname` below `base`, or undefined when the path is not under it. */
export function suffixOf(pathname: string, base: string): string | undefined {
  const path = pathname.length > 1 ? pathname.replace(/\/$/, '') : pathname;
  if (path === base) return '';
  if (base === '/') return path;
  if (path.startsWith(`${base}/`)) return path.slice(base.length);
  return undefined;
}

/** The route of `suffix` ('' or '/live', ...) below `base`, without doubling the slash of base '/'. */
export function routeOf(base: string, suffix: string): string {
  return base === '/' ? suffix || '/' : `${base}${suffix}`;
}
