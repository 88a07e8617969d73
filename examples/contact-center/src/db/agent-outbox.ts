import type { AgentState } from '../schemas/agent-state.js';
import type { Db } from './client.js';

export const AGENT_STATE_OUTBOX = 'agent_state_outbox';

/**
 * Appends an agent-state change to the outbox, once per platform event id. The outbox is the durable
 * record; the handler also applies the event to the Redis state cache live, and the outbox is the
 * source the cache rebuilds from when Redis comes back empty.
 */
export async function appendAgentState(
  db: Db,
  state: AgentState,
  version: number,
  sourceEventId: string,
): Promise<boolean> {
  const { rowCount } = await db.query(
    `INSERT INTO ${AGENT_STATE_OUTBOX} (key, version, type, value, source_event_id)
     VALUES ($1, $2, 'UPDATED', $3, $4)
     ON CONFLICT (source_event_id) DO NOTHING`,
    [state.agent_id, version, JSON.stringify(state), sourceEventId],
  );
  return rowCount === 1;
}
