import { randomInt } from 'node:crypto';
import { idAt, newId, type IdPrefix } from '../../src/ids';
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

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/**
 * An id of a past time. newId's monotonic factory never goes back in time (an earlier
 * `at` gives an id after the last one made), so the time part comes from idAt.
 */
export function pastId(prefix: IdPrefix, at: Date): string {
  const random = Array.from({ length: 16 }, () => CROCKFORD[randomInt(32)]).join('');
  return idAt(prefix, at).slice(0, -16) + random;
}

/**
 * `count` messages created at `at` (ids of that time, so they sort where real ones would),
 * each with its content, one delivery to the endpoint in `state` and one attempt: bulk
 * inserts, one statement per table, for retention and deletion tests.
 */
export async function seedMessages(
  services: Services,
  appId: string,
  endpointId: string,
  fields: { at: Date; count: number; state?: string },
): Promise<string[]> {
  const ids = Array.from({ length: fields.count }, () => pastId('msg', fields.at)).sort();
  const attemptIds = ids.map(() => pastId('atmpt', fields.at));
  const at = fields.at.toISOString();
  // One transaction: a retention pass running meanwhile sees all of a message's rows or none.
  await services.orm.em.fork().transactional(async (tx) => {
    const run = (sql: string, args: unknown[]) =>
      tx.getConnection().execute(sql, args, 'run', tx.getTransactionContext());
    await run(
      `insert into messages (id, app_id, event_type, created_at, expires_at)
       select id, ?, 'seeded', ?::timestamptz, ?::timestamptz + interval '90 days' from unnest(?::text[]) as id`,
      [appId, at, at, textArray(ids)],
    );
    await run(
      `insert into message_content (msg_id, payload, expires_at)
       select id, '{"seeded":true}', ?::timestamptz + interval '90 days' from unnest(?::text[]) as id`,
      [at, textArray(ids)],
    );
    await run(
      `insert into deliveries (msg_id, endpoint_id, app_id, event_type, state, dispatched_at, workflow_id, attempt_count, created_at)
       select id, ?, ?, 'seeded', ?, ?::timestamptz, 'deliver-' || id || '-' || ?, 1, ?::timestamptz from unnest(?::text[]) as id`,
      [endpointId, appId, fields.state ?? 'success', at, endpointId, at, textArray(ids)],
    );
    await run(
      `insert into attempts (id, msg_id, endpoint_id, app_id, url, status, response_status_code, response,
                             response_duration_ms, trigger_type, attempt_number, workflow_id, timestamp)
       select aid, mid, ?, ?, 'http://127.0.0.1:9/', 0, 200, 'ok', 5, 0, 1, 'deliver-' || mid || '-' || ?, ?::timestamptz
         from unnest(?::text[], ?::text[]) as x(mid, aid)`,
      [endpointId, appId, endpointId, at, textArray(ids), textArray(attemptIds)],
    );
  });
  return ids;
}
