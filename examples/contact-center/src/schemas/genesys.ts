import { z } from 'zod';
import { identifier, stateChangeTime } from './common.js';

/**
 * Genesys Cloud CX notification envelope as delivered by an event-bridge/webhook integration. The
 * `id` is stable across redeliveries of the same event, so it is the deduplication key.
 */
export const genesysEnvelope = z.strictObject({
  id: z.uuid(),
  topicName: z
    .string()
    .regex(/^v2\.[A-Za-z0-9_.{}-]+$/, 'a v2.* notification topic')
    .max(200),
  version: z.string().max(8),
  timestamp: z.iso.datetime({ offset: true }),
  metadata: z.object({ CorrelationId: z.string().max(128) }).optional(),
  eventBody: z.record(z.string(), z.unknown()),
});

/** `v2.detail.events.conversation.{conversationId}.acw`: the agent finished after-call work. */
export const genesysAcwEvent = z.object({
  /** Epoch ms; bounded by the largest date JavaScript (and so the note's event_time) can hold. */
  eventTime: z.number().int().positive().max(8.64e15, 'must be a date up to +275760-09-13'),
  conversationId: z.uuid(),
  participantId: z.uuid(),
  userId: z.uuid(),
  queueId: z.uuid(),
  mediaType: z.enum(['VOICE', 'CALLBACK', 'CHAT', 'EMAIL', 'MESSAGE']),
  wrapupCode: z.string().min(1).max(128),
  wrapupNotes: z.string().max(4000).optional(),
  externalContactId: identifier(64),
});

/** `v2.users.{userId}.routingStatus`: the agent's ACD routing status changed. */
export const genesysRoutingStatusEvent = z.object({
  routingStatus: z.object({
    userId: z.uuid(),
    status: z.enum(['OFF_QUEUE', 'IDLE', 'INTERACTING', 'NOT_RESPONDING', 'COMMUNICATING']),
    startTime: stateChangeTime,
  }),
});

export type GenesysEnvelope = z.output<typeof genesysEnvelope>;
export type GenesysAcwEvent = z.output<typeof genesysAcwEvent>;
export type GenesysRoutingStatusEvent = z.output<typeof genesysRoutingStatusEvent>;

export const genesysTopics = {
  acw: /^v2\.detail\.events\.conversation\.[0-9a-f-]{36}\.acw$/,
  routingStatus: /^v2\.users\.[0-9a-f-]{36}\.routingStatus$/,
} as const;
