import { z } from 'zod';
import { identifier } from './common.js';

export const agentParams = z.strictObject({ agentId: identifier(64) });

/** One agent's state as the agent desktop and routing read it; both platforms map into this shape. */
export const agentState = z.object({
  agent_id: z.string(),
  platform: z.enum(['genesys', 'cxone']),
  status: z.string(),
  since: z.string(),
});

export type AgentState = z.output<typeof agentState>;
