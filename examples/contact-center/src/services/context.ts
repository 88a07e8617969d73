import type { CheckpointStore } from '@cxkit/checkpoint';
import type { Deduplicator } from '@cxkit/dedup';
import type { HealthMonitor } from '@cxkit/health';
import type { IdempotencyStore } from '@cxkit/idempotency';
import type { LockManager } from '@cxkit/locks';
import type { StateCache } from '@cxkit/state-cache';
import type pg from 'pg';
import type { RegionConfig } from '../config.js';
import type { Authenticator } from '../http/auth.js';
import type { CrmSyncQueue } from '../queue/crm-sync-queue.js';
import type { AgentState } from '../schemas/agent-state.js';
import type { HeldLocks } from './held-locks.js';
import type { OverrideLog } from './override-log.js';

/** Everything a region's routes use, built once at start-up by `createRegionContext()`. */
export interface RegionContext {
  config: RegionConfig;
  region: string;
  db: pg.Pool;
  auth: Authenticator;
  locks: LockManager;
  heldLocks: HeldLocks;
  overrides: OverrideLog;
  idempotency: IdempotencyStore;
  // biome-ignore lint/suspicious/noExplicitAny: the variables type depends on the region's flow schema version
  checkpoints: CheckpointStore<any, any>;
  schemaVersion: 1 | 2;
  defaultVariables: Record<string, unknown>;
  dedup: Deduplicator;
  stateCache: StateCache<AgentState>;
  health: HealthMonitor;
  crmSync: CrmSyncQueue;
}
