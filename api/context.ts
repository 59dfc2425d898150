import type { IncomingMessage } from 'node:http';
import type { Client } from '@temporalio/client';
import type { Config } from '../src/config';
import type { Orm } from '../src/db/orm';
import type { Logger } from '../src/logger';
import type { SecretBox } from '../src/domain/crypto';
import type { Principal, Tokens } from '../src/domain/tokens';
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

/**
 * What message create's steps read of a request: Node's own, plus what earlier steps set.
 * Typed so, not as Express's Request, because the API's fast path (api/fast-path.ts) runs
 * them on a plain IncomingMessage; an Express request is one too.
 */
export type ApiRequest = IncomingMessage & {
  /** Set by the JSON body step. */
  body?: unknown;
  /** The JSON body's bytes as received (the JSON body step's `verify`). */
  rawBody?: Buffer;
  /** Set by the bearer auth step. */
  principal?: Principal;
  /** The URL as received, before any router trimmed it. */
  originalUrl: string;
};
