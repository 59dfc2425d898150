import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Sealing of secrets at rest (endpoint secrets, bearer tokens, sensitive headers) with
 * AES-256-GCM under a key derived from HOOKFLOW_SECRET_KEY. Format: `v1.<base64url(iv|tag|ciphertext)>`.
 */
export class SecretBox {
  private readonly key: Buffer;
  constructor(secretKey: string) {
    this.key = Buffer.from(hkdfSync('sha256', secretKey, 'hookflow', 'secrets-at-rest', 32));
  }

  seal(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const ct = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return `v1.${Buffer.concat([iv, cipher.getAuthTag(), ct]).toString('base64url')}`;
  }

  open(sealed: string): string {
    if (!sealed.startsWith('v1.')) throw new Error('Unknown sealed secret format');
    const raw = Buffer.from(sealed.slice(3), 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  }
}

/** A key for a purpose other than sealing (app tokens), so one key never serves two uses. */
export function deriveKey(secretKey: string, purpose: string): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', secretKey, 'hookflow', purpose, 32));
}
