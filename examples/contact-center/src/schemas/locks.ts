import { z } from 'zod';
import { identifier } from './common.js';

/** Seed 001, section 1: the lock acquisition request a region's middleware posts. */
export const acquireLockBody = z.strictObject({
  resource_id: identifier(200),
  region_origin: z.string().regex(/^[a-z0-9-]{2,40}$/, 'lowercase region name like us-east-1'),
  lock_ttl_ms: z.number().int().min(1000).max(60_000),
  operation_type: z.string().regex(/^[A-Z][A-Z0-9_]{1,39}$/, 'UPPER_SNAKE_CASE operation like CRM_UPDATE'),
  correlation_id: identifier(128),
});

export const releaseLockBody = z.strictObject({
  resource_id: identifier(200),
  lock_token: z.string().min(8).max(200),
});

export const heartbeatLockBody = z.strictObject({
  resource_id: identifier(200),
  lock_token: z.string().min(8).max(200),
  /** New remaining lifetime; the lock keeps its current expiry when omitted. */
  lock_ttl_ms: z.number().int().min(1000).max(60_000).optional(),
});

export type AcquireLockBody = z.output<typeof acquireLockBody>;
export type ReleaseLockBody = z.output<typeof releaseLockBody>;
export type HeartbeatLockBody = z.output<typeof heartbeatLockBody>;
