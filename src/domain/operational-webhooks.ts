import type { Client } from '@temporalio/client';
import { newId } from '../ids';

/** Svix's operational webhook types and payload shapes: `{type, timestamp, data}`. */
export type OperationalEventType =
  | 'endpoint.created'
  | 'endpoint.updated'
  | 'endpoint.deleted'
  | 'endpoint.disabled'
  | 'message.attempt.failing'
  | 'message.attempt.exhausted'
  | 'message.attempt.recovered';

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

  async emit(type: OperationalEventType, data: Record<string, unknown>): Promise<void> {
    if (!this.enabled) return;
    const event: OperationalEvent = { id: newId('msg'), type, timestamp: new Date().toISOString(), data };
    await this.temporal!.workflow.start('DeliverOperationalEvent', {
      taskQueue: this.taskQueue,
      workflowId: `operational-${event.id}`,
      args: [event],
      staticSummary: `operational webhook ${type}`,
    });
  }
}
