import type { z } from 'zod';
import { ConfigError } from '../errors.js';
import { type MappingTable, mappingTableSchema, mappingToUpcast } from './mapping.js';

/** Upcasts the variables of a version-n checkpoint to version n + 1 (code or a mapping table). */
export type Migration = ((variables: Record<string, unknown>) => Record<string, unknown>) | MappingTable;

/** What `latest()` does with a checkpoint of an unknown or newer schema version. */
export type UnknownVersionPolicy = 'ignore' | 'quarantine';

export interface CheckpointSchemaOptions<S extends z.ZodType, T extends readonly string[]> {
  /** Current schema version (positive integer), written into every checkpoint. */
  version: number;
  /** Zod schema of the variables (a `z.object` when `transient` is used). */
  variables: S;
  /** `migrations[n]` upcasts version n to n + 1; keys must run without gaps up to `version - 1`. */
  migrations?: Record<number, Migration>;
  /** Variables a flow starts from when nothing usable is stored (returned on `absent`/`incompatible`). */
  defaults?: Omit<z.input<S>, T[number]>;
  /** Variable names never persisted (menu selections, temporary values): stripped before the write. */
  transient?: T;
  /** `ignore` (default): report `incompatible`; `quarantine`: also keep the raw payload aside for audit. */
  onUnknownVersion?: UnknownVersionPolicy;
}

/** A validated schema definition; pass it to a store. */
export interface CheckpointSchema<V = Record<string, unknown>, I = V> {
  /** Type-only: the variables `save()` takes (transient fields included). */
  readonly __input?: I;
  readonly version: number;
  /** Oldest version the migration chain can upcast from. */
  readonly oldestVersion: number;
  readonly transient: readonly string[];
  readonly onUnknownVersion: UnknownVersionPolicy;
  readonly defaults: V | undefined;
  /** Validates variables as a caller passes them to `save()` (transient fields included). */
  readonly input: z.ZodType;
  /** Validates variables as stored (transient fields excluded). */
  readonly stored: z.ZodType<V>;
  /** Upcast step from `n` to `n + 1`. */
  readonly upcasts: ReadonlyMap<number, (variables: Record<string, unknown>) => Record<string, unknown>>;
}

const BRAND = Symbol.for('@cxkit/checkpoint/schema');

export function isCheckpointSchema(value: unknown): value is CheckpointSchema<unknown, unknown> {
  return typeof value === 'object' && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true;
}

function toUpcast(from: number, migration: Migration) {
  if (typeof migration === 'function') return migration;
  const parsed = mappingTableSchema.safeParse(migration);
  if (!parsed.success) {
    throw new ConfigError(
      `migrations[${from}]`,
      `not a function nor a mapping table: ${parsed.error.message}`,
    );
  }
  return mappingToUpcast(parsed.data);
}

function chain(version: number, migrations: Record<number, Migration>) {
  const froms = Object.keys(migrations)
    .map(Number)
    .sort((a, b) => a - b);
  const upcasts = new Map<number, (v: Record<string, unknown>) => Record<string, unknown>>();
  for (const from of froms) {
    if (!Number.isInteger(from) || from < 1 || from >= version) {
      throw new ConfigError(`migrations[${from}]`, `must upcast a version from 1 to ${version - 1}`);
    }
    upcasts.set(from, toUpcast(from, migrations[from]!));
  }
  const oldest = froms[0] ?? version;
  for (let v = oldest; v < version; v++) {
    if (!upcasts.has(v))
      throw new ConfigError(`migrations[${v}]`, `missing: the chain ${oldest} -> ${version} has a gap`);
  }
  return { upcasts, oldest };
}

/**
 * Defines the versioned variables of a flow checkpoint. The migration chain is checked here, so a gap
 * or a malformed mapping table fails at startup, not during a region failover.
 */
export function defineCheckpointSchema<S extends z.ZodType, const T extends readonly string[] = []>(
  options: CheckpointSchemaOptions<S, T>,
): CheckpointSchema<Omit<z.output<S>, T[number]>, z.input<S>> {
  if (!Number.isInteger(options.version) || options.version < 1) {
    throw new ConfigError('version', `must be a positive integer, got ${String(options.version)}`);
  }
  if (typeof (options.variables as { safeParse?: unknown } | undefined)?.safeParse !== 'function') {
    throw new ConfigError('variables', 'must be a zod schema');
  }
  const policy = options.onUnknownVersion ?? 'ignore';
  if (policy !== 'ignore' && policy !== 'quarantine') {
    throw new ConfigError('onUnknownVersion', `must be 'ignore' or 'quarantine', got ${String(policy)}`);
  }
  const transient = [...(options.transient ?? [])];
  let stored: z.ZodType = options.variables;
  if (transient.length > 0) {
    const object = options.variables as unknown as z.ZodObject;
    if (typeof object.omit !== 'function' || typeof object.shape !== 'object') {
      throw new ConfigError('transient', 'needs `variables` to be a z.object()');
    }
    for (const name of transient) {
      if (!Object.hasOwn(object.shape, name))
        throw new ConfigError('transient', `"${name}" is not a variable`);
    }
    const mask = Object.fromEntries(transient.map((name) => [name, true as const]));
    stored = object.omit(mask as Parameters<typeof object.omit>[0]);
  }
  const { upcasts, oldest } = chain(options.version, options.migrations ?? {});
  let defaults: unknown;
  if (options.defaults !== undefined) {
    const parsed = stored.safeParse(options.defaults);
    if (!parsed.success)
      throw new ConfigError('defaults', `do not match the schema: ${parsed.error.message}`);
    defaults = parsed.data;
  }
  return Object.freeze({
    [BRAND]: true,
    version: options.version,
    oldestVersion: oldest,
    transient: Object.freeze(transient),
    onUnknownVersion: policy,
    defaults,
    input: options.variables,
    stored,
    upcasts,
  }) as unknown as CheckpointSchema<Omit<z.output<S>, T[number]>, z.input<S>>;
}
