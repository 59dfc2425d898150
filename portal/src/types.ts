/** The Svix-compatible shapes the portal reads (plus Hookflow's optional extensions). */
export type Method = 'POST' | 'PUT' | 'PATCH' | 'GET' | 'DELETE';

export interface Endpoint {
  id: string;
  url: string;
  description: string;
  disabled?: boolean;
  eventTypes?: string[] | null;
  filterTypes?: string[] | null;
  channels?: string[] | null;
  throttleRate?: number | null;
  method?: Method;
  payloadTemplate?: string | null;
  /** Write-only: the API says whether one is set, never its value. */
  bearerTokenSet?: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface EndpointStats {
  success: number;
  fail: number;
  pending: number;
  sending: number;
  canceled?: number;
  successRate?: number | null;
  avgResponseMs?: number | null;
  p95ResponseMs?: number | null;
  /** HTTP status codes of the latest attempts, newest first (0: no response). */
  lastStatuses?: number[];
}

export interface EventType {
  name: string;
  description: string;
  archived?: boolean;
  deprecated?: boolean;
  schemas?: Record<string, unknown> | null;
  example?: unknown;
  featureFlag?: string | null;
}

/** Svix MessageStatus: 0 success, 1 pending, 2 fail, 3 sending. */
export type AttemptStatus = 0 | 1 | 2 | 3;

export interface Attempt {
  id: string;
  msgId: string;
  endpointId: string;
  url: string;
  status: AttemptStatus;
  responseStatusCode: number;
  response: string;
  responseDurationMs: number;
  triggerType: 0 | 1;
  timestamp: string;
  /** Why no HTTP answer came (`timeout`, `blocked`, a socket error) or `configuration` (ours, not the endpoint's). */
  errorKind?: string | null;
  responseTruncated?: boolean;
  msg?: Message | null;
}

export interface Message {
  id: string;
  eventType: string;
  eventId?: string | null;
  channels?: string[] | null;
  payload: Record<string, unknown>;
  timestamp: string;
}

export interface BackgroundTask {
  id: string;
  status: 'running' | 'finished' | 'failed' | string;
  task: string;
  data?: Record<string, unknown> | null;
  updatedAt?: string;
}

export const STATUS_LABEL: Record<number, string> = {
  0: 'Succeeded',
  1: 'Pending',
  2: 'Failed',
  3: 'Sending',
};
export const STATUS_CLASS: Record<number, string> = { 0: 'ok', 1: 'pending', 2: 'fail', 3: 'pending' };
