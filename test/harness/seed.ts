import { newId } from '../../src/ids';
import { textArray } from '../../src/db/sql';
import { generateSecret } from '../../src/domain/signing';
import type { Services } from '../../src/services';

/** Rows written straight to the database, for tests that are not about the management API. */
export async function seedApp(
  services: Services,
  fields: { webhooksEnabled?: boolean } = {},
): Promise<string> {
  const id = newId('app');
  await services.orm.em
    .getConnection()
    .execute('insert into applications (id, name, webhooks_enabled) values (?, ?, ?)', [
      id,
      `test ${id}`,
      fields.webhooksEnabled ?? true,
    ]);
  return id;
}

export async function seedEndpoint(
  services: Services,
  appId: string,
  fields: {
    url: string;
    eventTypes?: string[];
    channels?: string[];
    disabled?: boolean;
    secret?: string;
    method?: string;
    throttleRate?: number;
    payloadTemplate?: string;
  },
): Promise<{ id: string; secret: string }> {
  const id = newId('ep');
  const secret = fields.secret ?? generateSecret();
  await services.orm.em.getConnection().execute(
    `insert into endpoints (id, app_id, url, event_types, channels, disabled, secret_enc, method, throttle_rate, payload_template)
       values (?, ?, ?, ?::text[], ?::text[], ?, ?, ?, ?, ?)`,
    [
      id,
      appId,
      fields.url,
      textArray(fields.eventTypes),
      textArray(fields.channels),
      fields.disabled ?? false,
      services.box.seal(secret),
      fields.method ?? 'POST',
      fields.throttleRate ?? null,
      fields.payloadTemplate ?? null,
    ],
  );
  return { id, secret };
}
