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

/**
 * Variables sent without `schema_version`: a flow on an older release (the seed's own payload has the
 * flat v1 `auth_status`) is upcast to the region's version, as a read of its checkpoint would be.
 * Variables of the region's version, or of no version at all, are returned unchanged (the save then
 * validates them against the region's schema and names every bad field).
 */
export function upcastUnversioned(
  regionVersion: 1 | 2,
  variables: Record<string, unknown>,
): Record<string, unknown> {
  if (regionVersion === 1 || flowVariablesV2.safeParse(variables).success) return variables;
  const v1 = flowVariablesV1.safeParse(variables);
  return v1.success ? upcastV1(v1.data) : variables;
}
