import { z } from 'zod';

/**
 * The response format of draft-inadarei-api-health-check-06 ("Health Check Response Format for
 * HTTP APIs"), as a zod schema: top-level status plus optional fields, and `checks` mapping
 * `component` or `component:measurement` to arrays of check objects.
 */
const status = z.enum(['pass', 'warn', 'fail']);

export const ietfCheck = z
  .object({
    componentId: z.string().optional(),
    componentType: z.string().optional(),
    observedValue: z.unknown().optional(),
    observedUnit: z.string().optional(),
    status,
    affectedEndpoints: z.array(z.string()).optional(),
    time: z.iso.datetime({ offset: true }).optional(),
    output: z.string().optional(),
    links: z.record(z.string(), z.string()).optional(),
  })
  .strict();

export const ietfHealth = z
  .object({
    status,
    version: z.string().optional(),
    releaseId: z.string().optional(),
    notes: z.array(z.string()).optional(),
    output: z.string().optional(),
    checks: z.record(z.string().regex(/^[^:]+(:[^:]+)?$/), z.array(ietfCheck)).optional(),
    links: z.record(z.string(), z.string()).optional(),
    serviceId: z.string().optional(),
    description: z.string().optional(),
  })
  .strict()
  .superRefine((v, ctx) => {
    // "output ... SHOULD be omitted for pass state" (section 3.5); we hold ourselves to it.
    if (v.status === 'pass' && v.output !== undefined)
      ctx.addIssue({ code: 'custom', message: 'output on pass' });
    for (const [key, list] of Object.entries(v.checks ?? {})) {
      for (const c of list) {
        if (c.status === 'pass' && c.output !== undefined) {
          ctx.addIssue({ code: 'custom', message: `${key}: output on pass` });
        }
      }
    }
  });
