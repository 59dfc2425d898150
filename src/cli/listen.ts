import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { Webhook } from 'standardwebhooks';

/**
 * `hookflow listen`: a local receiver for trying Hookflow out, what Svix Play or
 * webhook.site are for hosted services. It prints a line per delivery (with `verbose`, its
 * headers and pretty JSON body too) and whether its Standard Webhooks signature verifies.
 * With `--app` it wires itself to an application (see listen-app.ts).
 */
const secretOption = z
  .string()
  .regex(/^whsec_[A-Za-z0-9+/=]{16,}$/, 'must be an endpoint signing secret (whsec_…)');

export const listenOptions = z
  .object({
    /** Default 4000; with `--app` any free one, as the endpoint is made to match. */
    port: z.coerce.number().int().min(0).max(65535).optional(),
    host: z.string().min(1).default('127.0.0.1'),
    secret: secretOption.optional(),
    status: z.coerce.number().int().min(100).max(599).default(200),
    verbose: z.boolean().default(false),
    /** An application id or uid: create (or reuse) an endpoint of it pointing here. */
    app: z.string().min(1).max(256).optional(),
    api: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
    token: z.string().min(1).optional(),
    keep: z.boolean().default(false),
    /** Where Hookflow reaches this listener, when not at its own loopback address (a tunnel). */
    endpointUrl: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  })
  .refine((o) => !(o.app && o.secret), {
    path: ['secret'],
    message: 'is not needed with --app: the secret is read from the endpoint',
  })
  .transform((o) => ({ ...o, port: o.port ?? (o.app ? 0 : 4000) }));
export type ListenOptions = z.input<typeof listenOptions>;

export type Verdict = { verified: true } | { verified: false; reason: string } | { verified: null };

export interface Delivery {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  verdict: Verdict;
}

/** What the listener knows of a delivery beyond its request, from the API (with `--app`). */
export interface DeliveryInfo {
  eventType?: string;
  attempt?: number;
}
export type Describe = (d: Delivery) => Promise<DeliveryInfo>;

export interface Listener {
  url: string;
  port: number;
  /** Sets the secret and the describer, and lets through the deliveries held until now. */
  ready(how: { secret?: string; describe?: Describe }): void;
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

type Paint = (code: number, s: string) => string;
const painter =
  (color: boolean): Paint =>
  (code, s) =>
    color ? `\x1b[${code}m${s}\x1b[0m` : s;

function verdictText(v: Verdict, paint: Paint): string {
  if (v.verified === true) return paint(32, '✔ signature verified');
  if (v.verified === false) return paint(31, `✘ signature does NOT verify: ${v.reason}`);
  return paint(33, '• signature not checked (pass --app, or --secret whsec_…)');
}

/**
 * One line per delivery: when, what (event type, else method and path), which message,
 * which attempt, and the verdict.
 */
export function formatLine(d: Delivery, info: DeliveryInfo = {}, at = new Date(), color = false): string {
  const paint = painter(color);
  const id = String(d.headers['webhook-id'] ?? d.headers['svix-id'] ?? '');
  const parts = [
    paint(2, at.toISOString()),
    info.eventType ? paint(1, info.eventType) : `${d.method} ${d.path}`,
    id,
    info.attempt ? `attempt ${info.attempt}` : '',
    verdictText(d.verdict, paint),
  ];
  return `${parts.filter(Boolean).join('  ')}\n`;
}

/** The headers and body of a delivery (`--verbose`). Bearer tokens are shortened: this output gets pasted around. */
export function formatDetails(d: Delivery, color = false): string {
  const paint = painter(color);
  const lines = [paint(2, `  ${d.method} ${d.path}`)];
  for (const name of Object.keys(d.headers).sort()) {
    let value = String(d.headers[name]);
    if (SHOWN_HIDDEN.has(name))
      value = value.replace(/^(\S+\s+)?(.{0,4}).*$/, (_m, scheme = '', head) => `${scheme}${head}…`);
    lines.push(`  ${paint(2, `${name}:`)} ${value}`);
  }
  lines.push('', prettyBody(d.body), '');
  return `${lines.join('\n')}\n`;
}

/** Bounded, so a slow or unreachable API never holds a delivery near its HTTP timeout. */
const DESCRIBE_WAIT_MS = 2000;

async function describeBounded(describe: Describe | undefined, d: Delivery): Promise<DeliveryInfo> {
  if (!describe) return {};
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<DeliveryInfo>((resolve) => {
    timer = setTimeout(() => resolve({}), DESCRIBE_WAIT_MS);
  });
  try {
    return await Promise.race([describe(d).catch(() => ({})), late]);
  } finally {
    clearTimeout(timer);
  }
}

export async function startListener(
  input: ListenOptions,
  print: (text: string) => void,
  hooks: {
    onDelivery?: (d: Delivery) => void;
    /** Hold deliveries until `ready()`: the secret is known only once the endpoint exists. */
    hold?: boolean;
  } = {},
): Promise<Listener> {
  const opts = listenOptions.parse(input);
  const color = print === printToStdout && process.stdout.isTTY === true;
  let secret = opts.secret;
  let describe: Describe | undefined;
  let open = () => {};
  const gate = hooks.hold ? new Promise<void>((resolve) => (open = resolve)) : Promise.resolve();

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      await gate;
      const body = Buffer.concat(chunks).toString('utf8');
      const delivery: Delivery = {
        method: req.method ?? '',
        path: req.url ?? '/',
        headers: req.headers,
        body,
        verdict: verify(secret, req.headers, body),
      };
      // Described before answering: the attempt being answered is not recorded yet, so
      // the attempts recorded so far count the ones before it.
      const info = await describeBounded(describe, delivery);
      print(
        formatLine(delivery, info, new Date(), color) + (opts.verbose ? formatDetails(delivery, color) : ''),
      );
      hooks.onDelivery?.(delivery);
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
  return {
    url: `http://${urlHost(opts.host)}:${port}/`,
    port,
    ready(how) {
      secret = how.secret ?? secret;
      describe = how.describe;
      open();
    },
    close: () =>
      new Promise<void>((resolve) => {
        open(); // held requests are answered, not left hanging
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The address Hookflow reaches: a wildcard bind is reached on loopback. */
function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

export function printToStdout(text: string): void {
  process.stdout.write(text);
}
