import { createHash } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { newId } from '../ids';

/** Svix's operational webhook types and payload shapes: `{type, timestamp, data}`. */
export type OperationalEventType =
  | 'endpoint.created'
  | 'endpoint.updated'
  | 'endpoint.deleted'
  | 'endpoint.disabled'
  | 'message.attempt.failing'
  | 'message.attempt.exhausted'
  | 'message.attempt.recovered'
  // Hookflow's own: the delivery could not be built (secret or template), not the endpoint's fault.
  | 'message.attempt.misconfigured';

export interface OperationalEvent {
  id: string;
  type: OperationalEventType;
  timestamp: string;
  data: Record<string, unknown>;
}

/**
 * Sends operational events to the operator's URL through a small workflow of their own,
 * so they get Temporal's durable retries like any delivery. Does nothing when no URL is set.
 */
export class OperationalWebhooks {
  constructor(
    private readonly temporal: Client | null,
    private readonly url: string | undefined,
    private readonly taskQueue: string,
  ) {}

  get enabled(): boolean {
    return !!this.url && !!this.temporal;
  }

  /**
   * `key` names the event for good (e.g. the attempt that caused it): a step retried after a
   * crash emits the same event id, and its second start is a no-op.
   */
  async emit(type: OperationalEventType, data: Record<string, unknown>, key?: string): Promise<void> {
    if (!this.enabled) return;
    const id = key
      ? `msg_${createHash('sha256').update(`${key}/${type}`).digest('hex').slice(0, 26)}`
      : newId('msg');
    const event: OperationalEvent = { id, type, timestamp: new Date().toISOString(), data };
    try {
      await this.temporal!.workflow.start('DeliverOperationalEvent', {
        taskQueue: this.taskQueue,
        workflowId: `operational-${event.id}`,
        args: [event],
        staticSummary: `operational webhook ${type}`,
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
  }
}
