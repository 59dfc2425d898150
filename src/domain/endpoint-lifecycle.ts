import type { Client } from '@temporalio/client';
import type { Orm } from '../db/orm';
import type { Logger } from '../logger';
import { endpointDisabledSignal } from '../../workflows/definitions';
import type { OperationalWebhooks } from './operational-webhooks';

export interface AttemptRef {
  appId: string;
  endpointId: string;
  msgId: string;
}

/** Svix sends `message.attempt.failing` once a delivery has failed this many times. */
export const FAILING_AFTER_ATTEMPTS = 4;

/**
 * What happens to an endpoint as its deliveries succeed and fail: auto-disable after days
 * of exhausted deliveries, signals to its running deliveries, operational webhooks.
 */
export class EndpointLifecycle {
  constructor(
    private readonly deps: {
      orm: Orm;
      temporal: Client | null;
      operational: OperationalWebhooks;
      log: Logger;
      disableAfterDays: number;
    },
  ) {}

  private db() {
    return this.deps.orm.em.getConnection();
  }

  /** Tells every running delivery of the endpoint to stop; each records itself as cancelled. */
  async signalDisabled(endpointId: string, reason: string): Promise<number> {
    const { temporal, log } = this.deps;
    if (!temporal) return 0;
    let count = 0;
    try {
      const query = `HookflowEndpoint = '${endpointId.replace(/'/g, '')}' AND ExecutionStatus = 'Running'`;
      for await (const wf of temporal.workflow.list({ query })) {
        if (wf.type !== 'DeliverMessage') continue;
        await temporal.workflow
          .getHandle(wf.workflowId, wf.runId)
          .signal(endpointDisabledSignal, { reason })
          .then(() => count++)
          .catch(() => undefined); // finished meanwhile
      }
    } catch (err) {
      // Attempts re-read the endpoint, so a missed signal only delays the stop until the next attempt.
      log.warn({ err: String(err), endpointId }, 'could not signal running deliveries');
    }
    return count;
  }

  async disableEndpoint(appId: string, endpointId: string, reason: string, key?: string): Promise<void> {
    const rows: unknown[] = await this.db().execute(
      `update endpoints set disabled = true, disabled_reason = ?, updated_at = now()
        where id = ? and app_id = ? and not disabled returning id`,
      [reason, endpointId, appId],
    );
    if (rows.length === 0) return;
    this.deps.log.warn({ appId, endpointId, reason }, 'endpoint disabled');
    await this.signalDisabled(endpointId, reason);
    await this.deps.operational.emit(
      'endpoint.disabled',
      {
        appId,
        endpointId,
        failSince: new Date().toISOString(),
        trigger: 'automatic',
      },
      key,
    );
  }

  /** A success after the endpoint's failing streak (the attempt's own write ended the streak). */
  async recovered(input: AttemptRef, key?: string): Promise<void> {
    await this.deps.operational.emit('message.attempt.recovered', this.attemptData(input), key);
  }

  /** Our side could not build the request: the operator hears of it, the endpoint is not blamed. */
  async misconfigured(input: AttemptRef, reason: string, key?: string): Promise<void> {
    await this.deps.operational.emit(
      'message.attempt.misconfigured',
      { ...this.attemptData(input), reason },
      key,
    );
  }

  async failed(input: AttemptRef, attemptNumber: number, exhausted: boolean, key?: string): Promise<void> {
    if (attemptNumber === FAILING_AFTER_ATTEMPTS && !exhausted) {
      await this.deps.operational.emit('message.attempt.failing', this.attemptData(input), key);
    }
    if (!exhausted) return;
    await this.deps.operational.emit('message.attempt.exhausted', this.attemptData(input), key);
    const rows: Array<{ failing_days: number }> = await this.db().execute(
      `update endpoints set failing_since = coalesce(failing_since, now()) where id = ?
       returning extract(epoch from (now() - failing_since)) / 86400 as failing_days`,
      [input.endpointId],
    );
    if (rows[0] && Number(rows[0].failing_days) >= this.deps.disableAfterDays) {
      await this.disableEndpoint(
        input.appId,
        input.endpointId,
        `Deliveries exhausted their retries for ${this.deps.disableAfterDays} days`,
        key,
      );
    }
  }

  private attemptData(input: AttemptRef) {
    return { appId: input.appId, endpointId: input.endpointId, msgId: input.msgId };
  }
}
