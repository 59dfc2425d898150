import { EntitySchema } from '@mikro-orm/core';

/**
 * Models of the product, apart from transport. Columns are snake_case in PostgreSQL;
 * properties are camelCase. Sensitive values (endpoint secrets, bearer tokens, headers
 * marked sensitive) are stored encrypted: the `*Enc` properties hold ciphertext only.
 */

export interface Application {
  id: string;
  uid: string | null;
  name: string;
  rateLimit: number | null;
  metadata: Record<string, string>;
  webhooksEnabled: boolean;
  retentionDays: number | null;
  /** Deliveries in flight at once at most, per process (Hookflow extension); null: the setting, or a fair share. */
  maxInFlight?: number | null;
  /** Set when a delete was asked for: hidden from the API while its rows are removed. */
  deletedAt?: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface EventType {
  name: string;
  description: string;
  schemas: Record<string, unknown> | null;
  example: Record<string, unknown> | null;
  archived: boolean;
  deprecated: boolean;
  featureFlag: string | null;
  groupName: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** An older secret that keeps signing until `expiresAt` (rotation grace period). */
export interface PreviousSecret {
  secretEnc: string;
  expiresAt: string;
}

export type HttpMethod = 'POST' | 'PUT' | 'PATCH' | 'GET' | 'DELETE';

export interface Endpoint {
  id: string;
  appId: string;
  uid: string | null;
  url: string;
  description: string;
  version: number;
  disabled: boolean;
  disabledReason: string | null;
  eventTypes: string[] | null;
  channels: string[] | null;
  throttleRate: number | null;
  metadata: Record<string, string>;
  secretEnc: string;
  previousSecrets: PreviousSecret[];
  headers: Record<string, string>;
  sensitiveHeadersEnc: string | null;
  bearerTokenEnc: string | null;
  method: HttpMethod;
  payloadTemplate: string | null;
  /** First time a delivery to it exhausted its schedule with no success since (auto-disable clock). */
  failingSince: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface Message {
  id: string;
  appId: string;
  eventType: string;
  eventId: string | null;
  channels: string[] | null;
  tags: string[] | null;
  // The payload is in message_content, as the exact text received (src/domain/ingest.ts).
  createdAt: Date;
  expiresAt: Date;
}

/** Svix's MessageStatus codes. */
export const MessageStatus = { Success: 0, Pending: 1, Fail: 2, Sending: 3 } as const;
export type DeliveryState = 'pending' | 'sending' | 'success' | 'failed' | 'cancelled';

/** The state of one message towards one endpoint (Svix's "message destination"). */
export interface Delivery {
  msgId: string;
  endpointId: string;
  appId: string;
  eventType: string;
  state: DeliveryState;
  /** Null until the first DeliverMessage workflow is started; the reconciler looks for these. */
  dispatchedAt: Date | null;
  workflowId: string | null;
  attemptCount: number;
  lastAttemptAt: Date | null;
  nextAttemptAt: Date | null;
  lastStatusCode: number | null;
  createdAt: Date;
  updatedAt: Date;
}

export type TriggerType = 0 | 1; // Svix: 0 scheduled, 1 manual

export interface Attempt {
  id: string;
  msgId: string;
  endpointId: string;
  appId: string;
  url: string;
  status: number;
  responseStatusCode: number;
  response: string;
  responseDurationMs: number;
  triggerType: TriggerType;
  attemptNumber: number;
  workflowId: string | null;
  errorKind: string | null;
  timestamp: Date;
}

export interface IdempotencyRecord {
  key: string;
  state: 'in_progress' | 'done';
  statusCode: number | null;
  body: unknown;
  createdAt: Date;
  expiresAt: Date;
}

export type BackgroundTaskStatus = 'running' | 'finished' | 'failed' | 'cancelled';

export interface BackgroundTask {
  id: string;
  appId: string | null;
  task: string;
  status: BackgroundTaskStatus;
  data: Record<string, unknown>;
  workflowId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

const timestamps = {
  createdAt: { type: 'Date', columnType: 'timestamptz', onCreate: () => new Date() },
  updatedAt: {
    type: 'Date',
    columnType: 'timestamptz',
    onCreate: () => new Date(),
    onUpdate: () => new Date(),
  },
} as const;

export const ApplicationSchema = new EntitySchema<Application>({
  name: 'Application',
  tableName: 'applications',
  properties: {
    id: { type: 'string', primary: true },
    uid: { type: 'string', nullable: true },
    name: { type: 'string' },
    rateLimit: { type: 'integer', nullable: true },
    metadata: { type: 'json' },
    webhooksEnabled: { type: 'boolean', default: true },
    retentionDays: { type: 'integer', nullable: true },
    maxInFlight: { type: 'integer', nullable: true },
    deletedAt: { type: 'Date', nullable: true },
    ...timestamps,
  },
});

export const EventTypeSchema = new EntitySchema<EventType>({
  name: 'EventType',
  tableName: 'event_types',
  properties: {
    name: { type: 'string', primary: true },
    description: { type: 'string' },
    schemas: { type: 'json', nullable: true },
    example: { type: 'json', nullable: true },
    archived: { type: 'boolean', default: false },
    deprecated: { type: 'boolean', default: false },
    featureFlag: { type: 'string', nullable: true },
    groupName: { type: 'string', nullable: true },
    ...timestamps,
  },
});

export const EndpointSchema = new EntitySchema<Endpoint>({
  name: 'Endpoint',
  tableName: 'endpoints',
  properties: {
    id: { type: 'string', primary: true },
    appId: { type: 'string' },
    uid: { type: 'string', nullable: true },
    url: { type: 'string', columnType: 'text' },
    description: { type: 'string', columnType: 'text' },
    version: { type: 'integer' },
    disabled: { type: 'boolean' },
    disabledReason: { type: 'string', nullable: true },
    eventTypes: { type: 'string[]', columnType: 'text[]', nullable: true },
    channels: { type: 'string[]', columnType: 'text[]', nullable: true },
    throttleRate: { type: 'integer', nullable: true },
    metadata: { type: 'json' },
    secretEnc: { type: 'string', columnType: 'text' },
    previousSecrets: { type: 'json' },
    headers: { type: 'json' },
    sensitiveHeadersEnc: { type: 'string', columnType: 'text', nullable: true },
    bearerTokenEnc: { type: 'string', columnType: 'text', nullable: true },
    method: { type: 'string' },
    payloadTemplate: { type: 'string', columnType: 'text', nullable: true },
    failingSince: { type: 'Date', columnType: 'timestamptz', nullable: true },
    ...timestamps,
  },
});

export const MessageSchema = new EntitySchema<Message>({
  name: 'Message',
  tableName: 'messages',
  properties: {
    id: { type: 'string', primary: true },
    appId: { type: 'string' },
    eventType: { type: 'string' },
    eventId: { type: 'string', nullable: true },
    channels: { type: 'string[]', columnType: 'text[]', nullable: true },
    tags: { type: 'string[]', columnType: 'text[]', nullable: true },
    createdAt: { type: 'Date', columnType: 'timestamptz', onCreate: () => new Date() },
    expiresAt: { type: 'Date', columnType: 'timestamptz' },
  },
});

export const DeliverySchema = new EntitySchema<Delivery>({
  name: 'Delivery',
  tableName: 'deliveries',
  properties: {
    msgId: { type: 'string', primary: true },
    endpointId: { type: 'string', primary: true },
    appId: { type: 'string' },
    eventType: { type: 'string' },
    state: { type: 'string' },
    dispatchedAt: { type: 'Date', columnType: 'timestamptz', nullable: true },
    workflowId: { type: 'string', nullable: true },
    attemptCount: { type: 'integer', default: 0 },
    lastAttemptAt: { type: 'Date', columnType: 'timestamptz', nullable: true },
    nextAttemptAt: { type: 'Date', columnType: 'timestamptz', nullable: true },
    lastStatusCode: { type: 'integer', nullable: true },
    ...timestamps,
  },
});

export const AttemptSchema = new EntitySchema<Attempt>({
  name: 'Attempt',
  tableName: 'attempts',
  properties: {
    id: { type: 'string', primary: true },
    msgId: { type: 'string' },
    endpointId: { type: 'string' },
    appId: { type: 'string' },
    url: { type: 'string', columnType: 'text' },
    status: { type: 'smallint' },
    responseStatusCode: { type: 'smallint' },
    response: { type: 'string', columnType: 'text' },
    responseDurationMs: { type: 'integer' },
    triggerType: { type: 'smallint' },
    attemptNumber: { type: 'integer' },
    workflowId: { type: 'string', nullable: true },
    errorKind: { type: 'string', nullable: true },
    timestamp: { type: 'Date', columnType: 'timestamptz' },
  },
});

export const IdempotencyRecordSchema = new EntitySchema<IdempotencyRecord>({
  name: 'IdempotencyRecord',
  tableName: 'idempotency_records',
  properties: {
    key: { type: 'string', primary: true },
    state: { type: 'string' },
    statusCode: { type: 'integer', nullable: true },
    body: { type: 'json', nullable: true },
    createdAt: { type: 'Date', columnType: 'timestamptz' },
    expiresAt: { type: 'Date', columnType: 'timestamptz' },
  },
});

export const BackgroundTaskSchema = new EntitySchema<BackgroundTask>({
  name: 'BackgroundTask',
  tableName: 'background_tasks',
  properties: {
    id: { type: 'string', primary: true },
    appId: { type: 'string', nullable: true },
    task: { type: 'string' },
    status: { type: 'string' },
    data: { type: 'json' },
    workflowId: { type: 'string', nullable: true },
    ...timestamps,
  },
});

export const entities = [
  ApplicationSchema,
  EventTypeSchema,
  EndpointSchema,
  MessageSchema,
  DeliverySchema,
  AttemptSchema,
  IdempotencyRecordSchema,
  BackgroundTaskSchema,
];
