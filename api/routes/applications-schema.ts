import { z } from 'zod';

export const uid = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[a-zA-Z0-9\-_.]+$/, 'must contain only letters, digits, "-", "_" and "."')
  .refine((v) => !/^(app|ep|msg|atmpt|qtask)_/.test(v), 'must not start with an id prefix (app_, ep_, msg_, …)');

export const metadata = z.record(z.string().max(256), z.string().max(4096)).refine((m) => Object.keys(m).length <= 50, {
  message: 'must have at most 50 keys',
});

/** Svix's ApplicationIn, plus Hookflow's `webhooksEnabled` and `retentionDays`. */
export const appIn = z
  .object({
    name: z.string().min(1).max(256),
    uid: uid.nullish(),
    rateLimit: z.number().int().min(1).max(65535).nullish(),
    throttleRate: z.number().int().min(1).max(65535).nullish(),
    metadata: metadata.optional(),
    webhooksEnabled: z.boolean().optional(),
    retentionDays: z.number().int().min(1).max(3650).nullish(),
  })
  .strict();
