import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { Webhook } from 'standardwebhooks';

/**
 * `hookflow listen`: a local receiver for trying Hookflow out, what Svix Play or
 * webhook.site are for hosted services. It prints every delivery (headers, pretty JSON
 * body) and whether its Standard Webhooks signature verifies against the given secret.
 */
export const listenOptions = z.object({
  port: z.coerce.number().int().min(0).max(65535).default(4000),
  host: z.string().min(1).default('127.0.0.1'),
  secret: z
    .string()
    .regex(/^whsec_[A-Za-z0-9+/=]{16,}$/, 'must be an endpoint signing secret (whsec_…)')
    .optional(),
  status: z.coerce.number().int().min(100).max(599).default(200),
});
export type ListenOptions = z.input<typeof listenOptions>;

export type Verdict = { verified: true } | { verified: false; reason: string } | { verified: null };

export interface Delivery {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  verdict: Verdict;
}

export interface Listener {
  url: string;
  port: number;
  close(): Promise<void>;
}

export function verify(secret: string | undefined, headers: http.IncomingHttpHeaders, body: string): Verdict {
  if (!secret) return { verified: null };
  const h = (name: string) => String(headers[`webhook-${name}`] ?? headers[`svix-${name}`] ?? '');
  if (!h('signature')) return { verified: false, reason: 'no webhook-signature header' };
  try {
    new Webhook(secret).verify(body, {
      'webhook-id': h('id'),
      'webhook-timestamp': h('timestamp'),
      'webhook-signature': h('signature'),
    });
    return { verified: true };
  } catch (err) {
    return { verified: false, reason: (err as Error).message || 'signature mismatch' };
  }
}

function prettyBody(body: string): string {
  if (!body) return '(empty body)';
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

const SHOWN_HIDDEN = new Set(['authorization']);

/** One delivery as the terminal shows it. Bearer tokens are shortened: this output gets pasted around. */
export function formatDelivery(d: Delivery, at = new Date(), color = false): string {
  const paint = (code: number, s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const lines = [paint(1, `── ${at.toISOString()}  ${d.method} ${d.path}`)];
  for (const name of Object.keys(d.headers).sort()) {
    let value = String(d.headers[name]);
    if (SHOWN_HIDDEN.has(name))
      value = value.replace(/^(\S+\s+)?(.{0,4}).*$/, (_m, scheme = '', head) => `${scheme}${head}…`);
    lines.push(`${paint(2, `${name}:`)} ${value}`);
  }
  lines.push('', prettyBody(d.body), '');
  if (d.verdict.verified === true) lines.push(paint(32, '✔ signature verified'));
  else if (d.verdict.verified === false)
    lines.push(paint(31, `✘ signature does NOT verify: ${d.verdict.reason}`));
  else lines.push(paint(33, '• signature not checked (pass --secret whsec_… to verify)'));
  return `${lines.join('\n')}\n`;
}

export async function startListener(
  input: ListenOptions,
  print: (text: string) => void,
  onDelivery?: (d: Delivery) => void,
): Promise<Listener> {
  const opts = listenOptions.parse(input);
  const color = print === printToStdout && process.stdout.isTTY === true;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const delivery: Delivery = {
        method: req.method ?? '',
        path: req.url ?? '/',
        headers: req.headers,
        body,
        verdict: verify(opts.secret, req.headers, body),
      };
      print(formatDelivery(delivery, new Date(), color));
      onDelivery?.(delivery);
      res.writeHead(opts.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ received: true }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(`Port ${opts.port} is already in use: pass --port with another one`)
          : err,
      ),
    );
    server.listen(opts.port, opts.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    url: `http://${host}:${port}/`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function printToStdout(text: string): void {
  process.stdout.write(text);
}
