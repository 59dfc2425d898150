import { readFileSync } from 'node:fs';
import { Client, Connection, type WorkflowClientInterceptor } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Config } from '../config';

/** TEMPORAL_TLS_CERT/KEY may be PEM text or a path to a PEM file. */
function pem(value: string): Buffer {
  return Buffer.from(value.includes('-----BEGIN') ? value : readFileSync(value, 'utf8'));
}

function connectionOptions(config: Config) {
  const mtls =
    config.TEMPORAL_TLS_CERT && config.TEMPORAL_TLS_KEY
      ? { clientCertPair: { crt: pem(config.TEMPORAL_TLS_CERT), key: pem(config.TEMPORAL_TLS_KEY) } }
      : undefined;
  const tls = mtls ?? (config.TEMPORAL_API_KEY ? true : undefined);
  return {
    address: config.TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
    tls,
    apiKey: config.TEMPORAL_API_KEY,
  };
}

export async function connectClient(config: Config): Promise<Client> {
  const connection = await Connection.connect({ ...connectionOptions(config), connectTimeout: '10s' });
  return new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
}

/** A client whose connection is made lazily: the API starts and accepts messages while Temporal is down. */
export function lazyClient(config: Config, workflowInterceptors: WorkflowClientInterceptor[] = []): Client {
  const connection = Connection.lazy({ ...connectionOptions(config) });
  return new Client({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    interceptors: { workflow: workflowInterceptors },
  });
}

/**
 * A client over the worker's own connection. Workflows it starts on that worker's task
 * queue can start eagerly: the server hands the first workflow task straight back in the
 * start response instead of through matching (one round trip and one history write fewer).
 */
export function sharedClient(
  connection: NativeConnection,
  config: Config,
  workflowInterceptors: WorkflowClientInterceptor[] = [],
): Client {
  return new Client({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    interceptors: { workflow: workflowInterceptors },
  });
}

export async function connectWorker(config: Config): Promise<NativeConnection> {
  return NativeConnection.connect(connectionOptions(config));
}
