import { randomUUID } from 'node:crypto';
import { idempotencyKey } from '@cxkit/idempotency';

/**
 * Realistic payloads for the demo, the tests and the README: the seed's CRM update and checkpoint, a
 * Genesys Cloud after-call-work notification and a NICE CXone agent state change.
 */
export function crmUpdate(
  sessionId: string,
  notes = 'Customer requested callback regarding billing discrepancy.',
) {
  return {
    session_id: sessionId,
    contact_id: 'cust_449201',
    operation: 'UPDATE_NOTES',
    payload: {
      interaction_type: 'voice',
      agent_id: 'agent_8821',
      notes,
      timestamp: '2024-05-15T14:32:00Z',
    },
  };
}

/** Seed 001, section 2: the deterministic key of session, operation and second (`@cxkit/idempotency`). */
export function idempotencyKeyFor(sessionId: string, operation: string, at: string): string {
  return idempotencyKey({ sessionId, operation, at });
}

export function lockRequest(resourceId: string, region: string, ttlMs = 15_000) {
  return {
    resource_id: resourceId,
    region_origin: region,
    lock_ttl_ms: ttlMs,
    operation_type: 'CRM_UPDATE',
    correlation_id: `req_${randomUUID().replaceAll('-', '').slice(0, 20)}`,
  };
}

export function checkpointV1(sessionId: string, region: string) {
  return {
    session_id: sessionId,
    region,
    checkpoint_id: `chk_${Math.floor(Date.now() / 1000)}`,
    schema_version: 1,
    variables: {
      routing_queue: 'billing_support_priority',
      crm_record_id: 'cust_449201',
      auth_status: 'verified',
      retry_count: 0,
      last_menu_selection: 'billing_options',
    },
    ttl_seconds: 3600,
  };
}

export function checkpointV2(sessionId: string, region: string) {
  return {
    session_id: sessionId,
    region,
    checkpoint_id: `chk_${Math.floor(Date.now() / 1000)}`,
    schema_version: 2,
    variables: {
      routing_queue: 'billing_support_priority',
      crm_record_id: 'cust_449201',
      auth: { status: 'verified', method: 'voice_biometrics' },
      retry_count: 1,
    },
    ttl_seconds: 3600,
  };
}

export function genesysAcw(eventId = randomUUID(), conversationId = randomUUID()) {
  return {
    id: eventId,
    topicName: `v2.detail.events.conversation.${conversationId}.acw`,
    version: '2',
    timestamp: '2024-05-15T14:32:05.120Z',
    metadata: { CorrelationId: randomUUID() },
    eventBody: {
      eventTime: Date.parse('2024-05-15T14:32:05.000Z'),
      conversationId,
      participantId: randomUUID(),
      userId: '6f1c2e9a-4b7d-4e21-9c3a-1d2e3f4a5b6c',
      queueId: '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
      mediaType: 'VOICE',
      wrapupCode: 'Billing - Callback requested',
      wrapupNotes: 'Customer requested callback regarding billing discrepancy.',
      externalContactId: 'cust_449201',
    },
  };
}

export function cxoneAgentState(agentId: number, state: string, at = new Date()) {
  return {
    eventId: randomUUID(),
    eventType: 'AgentStateChanged',
    createdDate: at.toISOString(),
    businessUnitId: 4600123,
    data: {
      agentId,
      state,
      outStateCode: state === 'Unavailable' ? 'Lunch' : undefined,
      startDate: at.toISOString(),
    },
  };
}
