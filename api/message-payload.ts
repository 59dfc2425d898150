import type { StoredMessage } from '../src/domain/ingest';
import { RawJson } from '../src/domain/raw-json';
import type { MessageIn } from './schemas';

/** What Svix answers for a message whose content was expunged or has expired. */
export const EXPIRED_PAYLOAD = '{"expired":true}';

/**
 * The payload to store for a new message: the `payload` member's exact JSON text, or
 * `transformationsParams.rawPayload` (any text, stored and sent as is) when given, with the
 * `content-type` its deliveries carry (null: application/json).
 */
export function payloadOf(
  body: Pick<MessageIn, 'transformationsParams'>,
  payloadMemberText: string,
): { payload: string; raw: boolean; contentType: string | null } {
  const params = body.transformationsParams;
  const raw = typeof params?.rawPayload === 'string';
  const header = Object.entries(params?.headers ?? {}).find(([k]) => k.toLowerCase() === 'content-type');
  return {
    payload: raw ? params!.rawPayload! : payloadMemberText,
    raw,
    contentType: header?.[1] ?? null,
  };
}

const isJsonObject = (text: string): boolean => {
  try {
    const v: unknown = JSON.parse(text);
    return !!v && typeof v === 'object' && !Array.isArray(v);
  } catch {
    return false;
  }
};

/**
 * MessageOut's `payload`, which Svix's SDKs decode as a JSON object (Go: map[string]any):
 * - the text received, byte for byte (a raw payload too, when it is a JSON object);
 * - `{"expired": true}` once the content was expunged or its retention ended, as Svix;
 * - `{}` for a raw payload that is not a JSON object (XML, form data, text): it cannot be
 *   an object, and `{}` is the `payload` its sender gave beside it.
 *   `GET …/msg/{msg}/raw` answers every payload's text (Svix's `v1.message.get-raw-payload`);
 * - `{}` when the caller asked for no content (`with_content=false`).
 */
export function payloadView(m: Pick<StoredMessage, 'payload' | 'raw'>, withContent: boolean) {
  if (!withContent) return {};
  if (m.payload === null) return new RawJson(EXPIRED_PAYLOAD);
  if (m.raw && !isJsonObject(m.payload)) return {};
  return new RawJson(m.payload);
}
