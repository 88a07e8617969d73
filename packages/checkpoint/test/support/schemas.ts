import { z } from 'zod';
import { defineCheckpointSchema } from '../../src/index.js';

/** Version 1: what an older flow wrote. */
export const v1 = defineCheckpointSchema({
  version: 1,
  variables: z.object({ queue: z.string(), crm: z.string(), authenticated: z.boolean() }),
});

/** Version 2: `queue` renamed by a mapping table (data, not code). */
export const v2 = defineCheckpointSchema({
  version: 2,
  variables: z.object({ routing_queue: z.string(), crm: z.string(), authenticated: z.boolean() }),
  migrations: { 1: { rename: { queue: 'routing_queue' } } },
});

const v3Variables = z.object({
  routing_queue: z.string(),
  crm_record_id: z.string(),
  auth_status: z.enum(['verified', 'unverified']),
  retry_count: z.number().int().min(0),
  last_menu_selection: z.string().optional(),
  temp_total: z.number().optional(),
});

/** 1 -> 2 as a mapping table (data), 2 -> 3 as code. */
const v3Migrations = {
  1: { rename: { queue: 'routing_queue' } },
  2: ({ crm, authenticated, ...rest }: Record<string, unknown>) => ({
    ...rest,
    crm_record_id: crm,
    auth_status: authenticated ? 'verified' : 'unverified',
    retry_count: 0,
  }),
};

/** Version 3 (current): the seed's routing variables; menu selections and temporaries are transient. */
export const v3 = defineCheckpointSchema({
  version: 3,
  variables: v3Variables,
  migrations: v3Migrations,
  transient: ['last_menu_selection', 'temp_total'],
  defaults: { routing_queue: 'general', crm_record_id: '', auth_status: 'unverified', retry_count: 0 },
});

/** Same as v3 but quarantining payloads it cannot read. */
export const v3Quarantine = defineCheckpointSchema({
  version: 3,
  variables: v3Variables,
  migrations: v3Migrations,
  transient: ['last_menu_selection', 'temp_total'],
  onUnknownVersion: 'quarantine',
});

/** Version 4: a region that already runs a newer flow. */
export const v4 = defineCheckpointSchema({
  version: 4,
  variables: z.object({ routing: z.object({ queue: z.string() }) }),
});

/** Accepts anything, so serialization checks (not the schema) must catch BigInt, cycles, NaN. */
export const loose = defineCheckpointSchema({ version: 1, variables: z.record(z.string(), z.any()) });

export const seedVariables = {
  routing_queue: 'billing_support_priority',
  crm_record_id: 'cust_449201',
  auth_status: 'verified' as const,
  retry_count: 0,
  last_menu_selection: 'billing_options',
};
