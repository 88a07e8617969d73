import { z } from 'zod';

/**
 * A migration written as data, so the people who own a flow can edit it without code: applied to
 * top-level variables in this order: `rename`, then `drop`, then `defaults` (only where still missing).
 */
export interface MappingTable {
  /**
   * `{ oldName: newName }`, applied at once to the input's values (renames do not chain; a swap works).
   * A rename onto an existing field overwrites it.
   */
  rename?: Record<string, string>;
  /** Field names removed from the payload. */
  drop?: string[];
  /** Values set where the field is absent after renames and drops. */
  defaults?: Record<string, unknown>;
}

const fieldName = z.string().min(1);

/** Validates a mapping table (for example one loaded from a JSON file). */
export const mappingTableSchema = z
  .object({
    rename: z.record(fieldName, fieldName).optional(),
    drop: z.array(fieldName).optional(),
    defaults: z.record(fieldName, z.unknown()).optional(),
  })
  .strict();

export function isMappingTable(value: unknown): value is MappingTable {
  return typeof value === 'object' && value !== null && typeof value !== 'function';
}

/** Turns a mapping table into an upcast function. */
export function mappingToUpcast(
  table: MappingTable,
): (variables: Record<string, unknown>) => Record<string, unknown> {
  const rename = Object.entries(table.rename ?? {});
  const drop = table.drop ?? [];
  // structuredClone: a default object must not be shared between restored checkpoints.
  const defaults = Object.entries(structuredClone(table.defaults ?? {}));
  return (input) => {
    const out: Record<string, unknown> = { ...input };
    // All at once, from the input: renames do not chain (`a -> b, b -> c` moves a's value to b and b's
    // to c) and a swap keeps both values.
    for (const [from] of rename) delete out[from];
    for (const [from, to] of rename) if (Object.hasOwn(input, from)) out[to] = input[from];
    for (const name of drop) delete out[name];
    for (const [name, value] of defaults) {
      if (out[name] === undefined) out[name] = structuredClone(value);
    }
    return out;
  };
}
