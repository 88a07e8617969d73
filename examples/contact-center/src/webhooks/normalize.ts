import type { CrmNote } from '../db/crm-notes.js';
import { ProblemError } from '../http/problem.js';
import { parse } from '../http/validate.js';
import type { AgentState } from '../schemas/agent-state.js';
import { cxoneEvent } from '../schemas/cxone.js';
import {
  genesysAcwEvent,
  genesysEnvelope,
  genesysRoutingStatusEvent,
  genesysTopics,
} from '../schemas/genesys.js';

/** What a platform event means for us, whichever platform sent it. */
export type PlatformEvent =
  | { kind: 'note'; source: 'genesys' | 'cxone'; eventId: string; note: Omit<CrmNote, 'region'> }
  | { kind: 'agent-state'; source: 'genesys' | 'cxone'; eventId: string; state: AgentState; version: number }
  | { kind: 'ignored'; source: 'genesys' | 'cxone'; eventId: string; topic: string };

const genesysMedia: Record<string, string> = {
  VOICE: 'voice',
  CALLBACK: 'callback',
  CHAT: 'chat',
  EMAIL: 'email',
  MESSAGE: 'messaging',
};

/** Validates a Genesys Cloud notification and maps it; topics we do not consume are acknowledged and ignored. */
export function normalizeGenesys(body: unknown): PlatformEvent {
  const envelope = parse(genesysEnvelope, body, 'body');
  if (genesysTopics.acw.test(envelope.topicName)) {
    const e = parse(genesysAcwEvent, envelope.eventBody, 'body', ['eventBody']);
    if (!envelope.topicName.includes(e.conversationId)) {
      throw new ProblemError(400, 'VALIDATION_FAILED', 'Request validation failed', 'invalid body', {
        errors: [{ field: 'body.eventBody.conversationId', message: 'does not match the topic' }],
      });
    }
    return {
      kind: 'note',
      source: 'genesys',
      eventId: envelope.id,
      note: {
        sessionId: e.conversationId,
        contactId: e.externalContactId,
        operation: 'LOG_INTERACTION',
        interactionType: genesysMedia[e.mediaType] ?? 'voice',
        agentId: e.userId,
        notes: [`wrap-up: ${e.wrapupCode}`, e.wrapupNotes].filter(Boolean).join('\n'),
        eventTime: new Date(e.eventTime).toISOString(),
      },
    };
  }
  if (genesysTopics.routingStatus.test(envelope.topicName)) {
    const e = parse(genesysRoutingStatusEvent, envelope.eventBody, 'body', ['eventBody']);
    const since = e.routingStatus.startTime;
    return {
      kind: 'agent-state',
      source: 'genesys',
      eventId: envelope.id,
      state: { agent_id: e.routingStatus.userId, platform: 'genesys', status: e.routingStatus.status, since },
      version: Date.parse(since),
    };
  }
  return { kind: 'ignored', source: 'genesys', eventId: envelope.id, topic: envelope.topicName };
}

const cxoneMedia: Record<string, string> = {
  PhoneCall: 'voice',
  Chat: 'chat',
  Email: 'email',
  WorkItem: 'messaging',
  Digital: 'messaging',
  SMS: 'sms',
};

/** Validates a NICE CXone event and maps it. */
export function normalizeCxone(body: unknown): PlatformEvent {
  const e = parse(cxoneEvent, body, 'body');
  if (e.eventType === 'ContactEnded') {
    const d = e.data;
    return {
      kind: 'note',
      source: 'cxone',
      eventId: e.eventId,
      note: {
        sessionId: `cxone-${d.masterContactId}`,
        contactId: d.customerId,
        operation: 'LOG_INTERACTION',
        interactionType: cxoneMedia[d.mediaType] ?? 'voice',
        agentId: d.agentId,
        notes: [`disposition: ${d.dispositionCode}`, d.dispositionNotes].filter(Boolean).join('\n'),
        eventTime: e.createdDate,
      },
    };
  }
  const d = e.data;
  return {
    kind: 'agent-state',
    source: 'cxone',
    eventId: e.eventId,
    state: { agent_id: `cxone-${d.agentId}`, platform: 'cxone', status: d.state, since: d.startDate },
    version: Date.parse(d.startDate),
  };
}
