import { z } from 'zod';

/**
 * The flow variables that must survive a region failover (seed 001, section 3): queue assignment, CRM
 * record, authentication status and retry counter. v2 (the current flow release) replaced the flat
 * `auth_status` with an `auth` object; v1 checkpoints are upcast on read.
 */
export const flowVariablesV1 = z.strictObject({
  routing_queue: z.string().min(1).max(128),
  crm_record_id: z.string().min(1).max(64),
  auth_status: z.enum(['verified', 'unverified', 'failed']),
  retry_count: z.number().int().min(0).max(100),
  last_menu_selection: z.string().max(64).optional(),
});

export const flowVariablesV2 = z.strictObject({
  routing_queue: z.string().min(1).max(128),
  crm_record_id: z.string().min(1).max(64),
  auth: z.strictObject({
    status: z.enum(['verified', 'unverified', 'failed']),
    method: z.enum(['ivr_pin', 'voice_biometrics', 'agent', 'unknown']),
  }),
  retry_count: z.number().int().min(0).max(100),
  last_menu_selection: z.string().max(64).optional(),
});

export type FlowVariablesV1 = z.output<typeof flowVariablesV1>;
export type FlowVariablesV2 = z.output<typeof flowVariablesV2>;

/** v1 -> v2: the authentication method was not recorded in v1. */
export function upcastV1(v: FlowVariablesV1): FlowVariablesV2 {
  const { auth_status, ...rest } = v;
  return { ...rest, auth: { status: auth_status, method: 'unknown' } };
}

/** What a flow starts from when no usable checkpoint exists (the degradation path routes to an agent). */
export const defaultVariables = {
  1: {
    routing_queue: 'general_support',
    crm_record_id: 'unknown',
    auth_status: 'unverified',
    retry_count: 0,
  } satisfies FlowVariablesV1,
  2: {
    routing_queue: 'general_support',
    crm_record_id: 'unknown',
    auth: { status: 'unverified', method: 'unknown' },
    retry_count: 0,
  } satisfies FlowVariablesV2,
} as const;
