import type { Db } from './client.js';

export interface LockOverrideRecord {
  resourceId: string;
  previousRegion: string | undefined;
  previousFence: number | undefined;
  previousOperation: string | undefined;
  region: string;
  fence: number;
  correlationId: string | undefined;
}

/** Persists a stale-lock override for audit (seed 001, edge case 1: "log all lock overrides"). */
export async function recordLockOverride(db: Db, r: LockOverrideRecord): Promise<void> {
  await db.query(
    `INSERT INTO lock_overrides
       (resource_id, previous_region, previous_fence, previous_operation, region, fence, correlation_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [
      r.resourceId,
      r.previousRegion ?? null,
      r.previousFence ?? null,
      r.previousOperation ?? null,
      r.region,
      r.fence,
      r.correlationId ?? null,
    ],
  );
}
