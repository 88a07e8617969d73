// Data for the state-cache bench: a 1M-event outbox over 100k keys in Postgres, and Redis rebuilt from it.
import { postgresOutboxSource, StateCache, type StateEvent } from '@cxkit/state-cache';
import { Redis } from 'ioredis';
import type pg from 'pg';

export interface Agent {
  state: string;
  n: number;
}

export const TABLE = 'agent_outbox';

/** Fills the outbox in SQL: per key, versions 1..eventsPerKey in id order (CREATED, then UPDATEs). */
export async function fillOutbox(db: pg.Pool, keys: number, events: number): Promise<void> {
  const outbox = postgresOutboxSource({ db, table: TABLE });
  await outbox.migrate();
  await db.query(`TRUNCATE ${TABLE} RESTART IDENTITY`);
  await db.query(
    `INSERT INTO ${TABLE} (key, version, type, value)
     SELECT 'agent-' || (g % $1), g / $1 + 1, CASE WHEN g < $1 THEN 'CREATED' ELSE 'UPDATED' END,
            jsonb_build_object('state', CASE WHEN g % 3 = 0 THEN 'busy' ELSE 'idle' END, 'n', g)
     FROM generate_series(0, $2::int - 1) AS g ORDER BY g`,
    [keys, events],
  );
}

/** A client as the state-cache README recommends. */
export function client(url: string): Redis {
  const redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  return redis;
}

export async function connected(redis: Redis): Promise<Redis> {
  if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
  return redis;
}

export function stateCache(redis: Redis, db: pg.Pool | undefined, max: number): StateCache<Agent> {
  return new StateCache<Agent>({
    redis,
    namespace: 'bench-agents',
    nearCache: { max, ttlMs: 600_000 },
    source: db ? postgresOutboxSource<Agent>({ db, table: TABLE, batchSize: 10_000 }) : undefined,
    commandTimeoutMs: 30_000,
    rebuildBatchSize: 10_000,
    maxEventsPerScript: 1_000,
    snapshotBatchSize: 2_000,
    recentInvalidationsMax: Math.max(50_000, max),
  });
}

/**
 * The second-generation start the seed describes: replay the whole event log into a local map
 * (versioned, so the result equals the snapshot) before serving.
 */
export async function replayIntoMap(db: pg.Pool): Promise<Map<string, StateEvent<Agent>>> {
  const state = new Map<string, StateEvent<Agent>>();
  const source = postgresOutboxSource<Agent>({ db, table: TABLE, batchSize: 10_000 });
  for await (const { event } of source.read({
    fromOffset: undefined,
    signal: new AbortController().signal,
  })) {
    const prev = state.get(event.key);
    if (!prev || prev.version < event.version) state.set(event.key, event);
  }
  return state;
}
