import { ApplicationFailure } from '@temporalio/activity';
import { signedHeaders } from '../src/domain/signing';
import type { OperationalEvent } from '../src/domain/operational-webhooks';
import type { ActivityDeps } from './deps';

/** One try at sending an operational event; a failure is retried by Temporal's activity retry policy. */
export function makeOperationalSender({ http, config }: ActivityDeps) {
  return async function sendOperationalEvent(event: OperationalEvent): Promise<number> {
    const url = config.HOOKFLOW_OPERATIONAL_WEBHOOK_URL;
    if (!url) return 0;
    const body = JSON.stringify({ type: event.type, timestamp: event.timestamp, data: event.data });
    const secrets = config.HOOKFLOW_OPERATIONAL_WEBHOOK_SECRET
      ? [config.HOOKFLOW_OPERATIONAL_WEBHOOK_SECRET]
      : [];
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'Hookflow/1.0 (+operational)',
    };
    if (secrets.length)
      Object.assign(headers, signedHeaders(secrets, event.id, Math.floor(Date.now() / 1000), body));
    const res = await http.send(url, { method: 'POST', headers, body });
    if (res.statusCode < 200 || res.statusCode >= 300) {
      throw ApplicationFailure.retryable(
        `Operational webhook answered ${res.statusCode}`,
        'OperationalWebhookFailed',
      );
    }
    return res.statusCode;
  };
}
