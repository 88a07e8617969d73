import { configErrorMap, describeConfigIssue } from '@cxkit/internal';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import type { IdempotencyStore } from '../store.js';

/** Options shared by the fastify plugin and the express middleware. */
export interface HttpIdempotencyOptions<Req> {
  store: IdempotencyStore;
  /** Answer 400 when a request with one of `methods` has no Idempotency-Key. @default false */
  required?: boolean;
  /** Methods the key applies to (IETF draft: the non-idempotent ones). @default ['POST', 'PATCH'] */
  methods?: string[];
  /** Request header carrying the key. @default 'idempotency-key' */
  header?: string;
  /** Extra scope so two tenants can use the same key independently. */
  tenant?: (req: Req) => string | undefined;
  /** Wait this long for a run in progress before answering 409. @default 0 */
  wait?: number;
}

export interface ResolvedHttpOptions<Req> {
  store: IdempotencyStore;
  required: boolean;
  methods: Set<string>;
  header: string;
  tenant: ((req: Req) => string | undefined) | undefined;
  wait: number;
}

const schema = z.object({
  store: z.custom<IdempotencyStore>(
    (v) => typeof v === 'object' && v !== null && typeof (v as IdempotencyStore).execute === 'function',
    'expected an IdempotencyStore',
  ),
  required: z.boolean().default(false),
  methods: z.array(z.string().min(1)).min(1).default(['POST', 'PATCH']),
  header: z
    .string()
    .regex(/^[A-Za-z0-9-]+$/)
    .default('idempotency-key'),
  tenant: z
    .custom<(req: never) => string | undefined>((v) => typeof v === 'function', 'expected a function')
    .optional(),
  wait: z.number().int().min(0).default(0),
});

export function resolveHttpOptions<Req>(options: HttpIdempotencyOptions<Req>): ResolvedHttpOptions<Req> {
  const parsed = schema.safeParse(options ?? {}, { error: configErrorMap });
  if (!parsed.success) {
    const { field, message } = describeConfigIssue(parsed.error.issues);
    throw new ConfigError(field, message);
  }
  const o = parsed.data;
  return {
    store: o.store,
    required: o.required,
    methods: new Set(o.methods.map((m) => m.toUpperCase())),
    header: o.header.toLowerCase(),
    tenant: o.tenant as ((req: Req) => string | undefined) | undefined,
    wait: o.wait,
  };
}
