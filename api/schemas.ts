import { z } from 'zod';
import { appIn } from './routes/applications-schema';

/** Request schemas shared by several routers, in one place. */

export const eventTypeName = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[a-zA-Z0-9\-_.]+$/, 'must contain only letters, digits, "-", "_" and "."');

export const channelName = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[a-zA-Z0-9\-_.:]+$/, 'must contain only letters, digits, "-", "_", "." and ":"');

/** A media type, optionally with parameters (`text/plain; charset=utf-8`). */
const mediaType = z
  .string()
  .max(256)
  .regex(
    /^[!#$%&'*+.^_`|~0-9A-Za-z-]+\/[!#$%&'*+.^_`|~0-9A-Za-z-]+(?:[ \t]*;[\x20-\x7e]*)?$/,
    'must be a media type such as text/plain or application/xml; charset=utf-8',
  );

/**
 * Svix's `transformationsParams`, as its SDKs' raw-payload helpers (Go `NewMessageInRaw`,
 * Python `message_in_raw`, JS `messageInRaw`) fill it: `rawPayload` is the webhook's body,
 * any text, sent byte for byte in place of `payload`; `headers` may set the `content-type`
 * it is sent with (default application/json). Other keys are Transformations' input, which
 * Hookflow has none of: accepted and ignored, as before.
 */
const transformationsParams = z
  .object({
    rawPayload: z.string().nullish(),
    headers: z
      .record(z.string().regex(/^content-type$/i, 'only content-type can be set here'), mediaType)
      .nullish(),
  })
  .catchall(z.unknown());

/** Svix's MessageIn. `payload` is validated parsed and stored as the exact text received. */
export const messageIn = z
  .object({
    eventType: eventTypeName,
    eventId: z
      .string()
      .min(1)
      .max(256)
      .regex(/^[a-zA-Z0-9\-_.]+$/, 'must contain only letters, digits, "-", "_" and "."')
      .nullish(),
    payload: z.record(z.string(), z.unknown(), { message: 'must be a JSON object' }),
    channels: z.array(channelName).min(1).max(10).nullish(),
    tags: z.array(z.string().min(1).max(128)).max(5).nullish(),
    payloadRetentionPeriod: z.number().int().min(1).max(90).nullish(),
    payloadRetentionHours: z.number().int().min(1).max(2160).nullish(),
    // A union, not .nullish(): the document then says `ApplicationIn or null` here, and
    // ApplicationIn itself stays non-null for the routes that take it as their body.
    application: z.union([appIn, z.null()]).optional(),
    transformationsParams: transformationsParams.nullish(),
  })
  .strict();
export type MessageIn = z.infer<typeof messageIn>;

export const messageOutSchema = z.object({
  id: z.string(),
  eventType: z.string(),
  eventId: z.string().nullable(),
  channels: z.array(z.string()).nullable(),
  tags: z.array(z.string()).nullable(),
  payload: z.record(z.string(), z.unknown()),
  timestamp: z.string(),
});
