import http from 'node:http';
import { createRequestListener } from '../api/app';
import type { ReadyConfig } from './config';
import type { Services } from './services';

export interface RunningApi {
  server: http.Server;
  url: string;
  close(): Promise<void>;
}

export async function startApi(
  services: Services,
  port: number = services.config.PORT,
  host = services.config.HOST,
): Promise<RunningApi> {
  const server = http.createServer(
    createRequestListener({ ...services, config: services.config as ReadyConfig }),
  );
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(`Port ${port} (API) is already in use: set PORT to another port`)
          : err,
      ),
    );
    server.listen(port, host, () => resolve());
  });
  const actual = (server.address() as { port: number }).port;
  const shown = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  return {
    server,
    url: `http://${shown}:${actual}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections?.();
      }),
  };
}
