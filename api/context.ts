import type { Client } from '@temporalio/client';
import type { Config } from '../src/config';
import type { Orm } from '../src/db/orm';
import type { Logger } from '../src/logger';
import type { SecretBox } from '../src/domain/crypto';
import type { Tokens } from '../src/domain/tokens';
import type { Dispatcher } from '../src/domain/dispatcher';
import type { EndpointLifecycle } from '../src/domain/endpoint-lifecycle';
import type { OperationalWebhooks } from '../src/domain/operational-webhooks';

/** What the API's routers are built from; tests hand in their own. */
export interface ApiDeps {
  config: Config & { HOOKFLOW_ADMIN_TOKEN: string; HOOKFLOW_SECRET_KEY: string };
  orm: Orm;
  temporal: Client;
  tokens: Tokens;
  box: SecretBox;
  log: Logger;
  dispatcher: Dispatcher;
  lifecycle: EndpointLifecycle;
  operational: OperationalWebhooks;
}
