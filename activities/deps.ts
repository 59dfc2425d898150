import type { Client } from '@temporalio/client';
import type { Config } from '../src/config';
import type { Orm } from '../src/db/orm';
import type { Logger } from '../src/logger';
import type { SecretBox } from '../src/domain/crypto';
import type { Dispatcher } from '../src/domain/dispatcher';
import type { EndpointLifecycle } from '../src/domain/endpoint-lifecycle';
import type { DeliveryStatus } from '../workflows/definitions';
import type { SafeHttpClient } from './http-client';

/** Everything activities touch, handed in so tests can give their own. */
export interface ActivityDeps {
  orm: Orm;
  http: SafeHttpClient;
  config: Config;
  box: SecretBox;
  temporal: Client;
  dispatcher: Dispatcher;
  lifecycle: EndpointLifecycle;
  log: Logger;
  settle(msgId: string, endpointId: string, status: DeliveryStatus, resendWorkflowId?: string): Promise<void>;
}
