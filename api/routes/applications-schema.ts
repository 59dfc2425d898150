import { z } from 'zod';
import type { Application } from '../../src/db/entities';
import { listOut } from '../resource';

/** Letters, digits, "-", "_" and "."; not an id prefix (app_, ep_, …), so a uid never reads as an id. */
export const uid = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[a-zA-Z0-9\-_.]+$/, 'must contain only letters, digits, "-", "_" and "."')
  .regex(/^(?!(?:app|ep|msg|atmpt|qtask)_)/, 'must not start with an id prefix (app_, ep_, msg_, …)')
  .meta({ pattern: '^(?!(?:app|ep|msg|atmpt|qtask)_)[a-zA-Z0-9\\-_.]+$' });

export const metadata = z
  .record(z.string().max(256), z.string().max(4096))
  .refine((m) => Object.keys(m).length <= 50, {
    message: 'must have at most 50 keys',
  })
  .meta({ maxProperties: 50, propertyNames: { maxLength: 256 } });

const rate = z.number().int().min(1).max(65535);

/**
 * Svix's ApplicationIn, plus Hookflow's `webhooksEnabled` and `retentionDays`. Svix SDKs
 * send the rate as `throttleRate` (and 1.x SDKs also as its older name `rateLimit`); both
 * are accepted and `throttleRate` wins when both are given.
 */
export const appIn = z
  .object({
    name: z.string().min(1).max(256),
    uid: uid.nullish(),
    rateLimit: rate.nullish(),
    throttleRate: rate.nullish(),
    metadata: metadata.optional(),
    webhooksEnabled: z.boolean().optional(),
    retentionDays: z.number().int().min(1).max(3650).nullish(),
  })
  .strict()
  .meta({ id: 'ApplicationIn' });
export type AppIn = z.infer<typeof appIn>;

/** Svix's ApplicationPatch: only the given fields change; `null` clears a nullable one. */
export const appPatch = appIn.partial().meta({ id: 'ApplicationPatch' });
export type AppPatch = z.infer<typeof appPatch>;

export const appOutSchema = z
  .object({
    id: z.string(),
    uid: z.string().nullable(),
    name: z.string(),
    rateLimit: z.number().int().nullable(),
    throttleRate: z.number().int().nullable(),
    metadata: z.record(z.string(), z.string()),
    createdAt: z.string(),
    updatedAt: z.string(),
    webhooksEnabled: z.boolean(),
    retentionDays: z.number().int().nullable(),
  })
  .meta({ id: 'ApplicationOut' });

export const appListOut = listOut(appOutSchema, 'ListResponse_ApplicationOut_');

/** `rateLimit` and `throttleRate` are the same setting under Svix's old and new names. */
export function appOut(a: Application) {
  return {
    id: a.id,
    uid: a.uid,
    name: a.name,
    rateLimit: a.rateLimit,
    throttleRate: a.rateLimit,
    metadata: a.metadata ?? {},
    createdAt: new Date(a.createdAt).toISOString(),
    updatedAt: new Date(a.updatedAt).toISOString(),
    webhooksEnabled: a.webhooksEnabled,
    retentionDays: a.retentionDays,
  };
}
