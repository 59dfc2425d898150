import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface Received {
  id: string;
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The body's bytes as they arrived. */
  bytes: Buffer;
  verified: boolean;
  at: number;
  /** The status this receiver answered (undefined when it hung or reset the connection). */
  answered?: number;
  /** The client closed its connection before the answer (its process died, or it timed out). */
  clientGone?: boolean;
}

export type Behaviour = (
  req: Received,
  n: number,
) => {
  status?: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
  hang?: boolean;
  /** Answer only once this settles (e.g. after the test stopped the database). */
  after?: Promise<unknown>;
  destroy?: boolean;
  delayMs?: number;
};

/**
 * A loopback HTTP receiver that verifies every request with the `standardwebhooks`
 * library against the secrets it is told, and answers as its behaviour says.
 */
export class Receiver {
  readonly received: Received[] = [];
  private server: http.Server;
  secrets: string[] = [];
  behaviour: Behaviour = () => ({ status: 200 });
  private hanging = new Set<http.ServerResponse>();

  constructor() {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const bytes = Buffer.concat(chunks);
        const body = bytes.toString('utf8');
        const rec: Received = {
          id: String(req.headers['webhook-id'] ?? ''),
          method: req.method ?? '',
          path: req.url ?? '',
          headers: req.headers,
          body,
          bytes,
          verified: this.verify(req.headers, body),
          at: Date.now(),
        };
        this.received.push(rec);
        const gone = () => {
          if (rec.answered === undefined) rec.clientGone = true;
        };
        req.socket.once('end', gone);
        req.socket.once('close', gone);
        res.once('finish', () => (req.socket.off('end', gone), req.socket.off('close', gone)));
        const answer = this.behaviour(rec, this.received.length);
        if (answer.destroy) return void req.socket.destroy();
        if (answer.hang) return void this.hanging.add(res);
        if (answer.after) {
          void answer.after.then(() => {
            // The client went away meanwhile (its process was killed): that is no delivery.
            if (rec.clientGone || res.socket?.destroyed || req.socket.destroyed) return;
            rec.answered = answer.status ?? 200;
            res.writeHead(answer.status ?? 200, { 'content-type': 'text/plain', ...(answer.headers ?? {}) });
            res.end(answer.body ?? 'ok');
          });
          return;
        }
        if (answer.delayMs) {
          setTimeout(() => {
            // A client that gave up (timeout) has closed the socket: that is no delivery.
            if (res.socket?.destroyed || req.socket.destroyed) return;
            rec.answered = answer.status ?? 200;
            res.writeHead(answer.status ?? 200, { 'content-type': 'text/plain', ...(answer.headers ?? {}) });
            res.end(answer.body ?? 'ok');
          }, answer.delayMs);
          return;
        }
        rec.answered = answer.status ?? 200;
        res.writeHead(answer.status ?? 200, { 'content-type': 'text/plain', ...(answer.headers ?? {}) });
        res.end(answer.body ?? 'ok');
      });
    });
  }

  verify(headers: http.IncomingHttpHeaders, body: string): boolean {
    return this.secrets.some((secret) => {
      try {
        new Webhook(secret).verify(
          body,
          {
            'webhook-id': String(headers['webhook-id']),
            'webhook-timestamp': String(headers['webhook-timestamp']),
            'webhook-signature': String(headers['webhook-signature']),
          },
          // The signature, not JSON: a raw payload may be any text.
          { jsonParse: false },
        );
        return true;
      } catch {
        return false;
      }
    });
  }

  async listen(host = '127.0.0.1'): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, host, resolve));
    return this;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  url(path = '/hook'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  countById(id: string): number {
    return this.received.filter((r) => r.id === id).length;
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
