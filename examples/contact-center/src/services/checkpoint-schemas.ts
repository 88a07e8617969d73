import { defineCheckpointSchema } from '@cxkit/checkpoint';
import { defaultVariables, flowVariablesV1, flowVariablesV2, upcastV1 } from '../schemas/flow-variables.js';

/**
 * The flow-variable schema per flow release. A region runs one of them (`FLOW_SCHEMA_VERSION`): during a
 * phased rollout the upgraded region upcasts v1 checkpoints, the not-yet-upgraded one cannot read v2 and
 * degrades. Menu selections are transient (seed 001: excluded from checkpoints).
 */
export const checkpointSchemas = {
  1: defineCheckpointSchema({
    version: 1,
    variables: flowVariablesV1,
    defaults: defaultVariables[1],
    transient: ['last_menu_selection'] as const,
  }),
  2: defineCheckpointSchema({
    version: 2,
    variables: flowVariablesV2,
    migrations: { 1: (v) => upcastV1(flowVariablesV1.parse(v)) },
    defaults: defaultVariables[2],
    transient: ['last_menu_selection'] as const,
  }),
} as const;
