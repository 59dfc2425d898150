import { createHmac, randomBytes } from 'node:crypto';

/** Standard Webhooks signing: `v1,<base64 HMAC-SHA256("id.timestamp.body")>` per secret. */
export const SECRET_PREFIX = 'whsec_';

export function generateSecret(): string {
  return SECRET_PREFIX + randomBytes(24).toString('base64');
}

/** A valid secret is `whsec_` + base64 of 24 to 64 bytes (Svix accepts that range). */
/**
 * A secret as callers may give it: `whsec_` optional, then base64 (padding optional) that
 * decodes to 24..64 bytes, i.e. 32..86 characters. The OpenAPI document states this.
 */
export const SECRET_INPUT_PATTERN = /^(?:whsec_)?[A-Za-z0-9+/]{32,86}={0,2}$/;

export function isValidSecret(secret: string): boolean {
  if (!secret.startsWith(SECRET_PREFIX)) return false;
  const b64 = secret.slice(SECRET_PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return false;
  const len = Buffer.from(b64, 'base64').length;
  return len >= 24 && len <= 64;
}

export function signature(secret: string, msgId: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
  return `v1,${createHmac('sha256', key).update(`${msgId}.${timestamp}.${body}`).digest('base64')}`;
}

/** Headers under both the Standard Webhooks and the Svix names, so either library verifies. */
export function signedHeaders(
  secrets: string[],
  msgId: string,
  timestamp: number,
  body: string,
): Record<string, string> {
  const sig = secrets.map((s) => signature(s, msgId, timestamp, body)).join(' ');
  const ts = String(timestamp);
  return {
    'webhook-id': msgId,
    'webhook-timestamp': ts,
    'webhook-signature': sig,
    'svix-id': msgId,
    'svix-timestamp': ts,
    'svix-signature': sig,
  };
}
