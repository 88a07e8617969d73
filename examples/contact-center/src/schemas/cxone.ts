import { z } from 'zod';
import { identifier, stateChangeTime } from './common.js';

const numericId = z.union([z.number().int().positive(), z.string().regex(/^\d{1,19}$/)]).transform(String);

/** NICE CXone contact ended: carries the disposition an agent entered. */
export const cxoneContactEnded = z.strictObject({
  eventId: z.uuid(),
  eventType: z.literal('ContactEnded'),
  createdDate: z.iso.datetime({ offset: true }),
  businessUnitId: numericId,
  data: z.object({
    contactId: numericId,
    masterContactId: numericId,
    agentId: numericId,
    skillId: numericId,
    mediaType: z.enum(['PhoneCall', 'Chat', 'Email', 'WorkItem', 'Digital', 'SMS']),
    dispositionCode: z.string().min(1).max(128),
    dispositionNotes: z.string().max(4000).optional(),
    customerId: identifier(64),
  }),
});

/** NICE CXone agent state change (`Available`, `Unavailable`, `InboundContact`, ...). */
export const cxoneAgentStateChanged = z.strictObject({
  eventId: z.uuid(),
  eventType: z.literal('AgentStateChanged'),
  createdDate: z.iso.datetime({ offset: true }),
  businessUnitId: numericId,
  data: z.object({
    agentId: numericId,
    state: z.enum(['Available', 'Unavailable', 'InboundContact', 'OutboundContact', 'Dialer', 'LoggedOut']),
    outStateCode: z.string().max(64).optional(),
    startDate: stateChangeTime,
  }),
});

export const cxoneEvent = z.discriminatedUnion('eventType', [cxoneContactEnded, cxoneAgentStateChanged]);

export type CxoneEvent = z.output<typeof cxoneEvent>;
