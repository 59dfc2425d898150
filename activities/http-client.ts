import dns from 'node:dns';
import net from 'node:net';
import ipaddr from 'ipaddr.js';
import { Agent, request, errors as undiciErrors } from 'undici';
import { storableBody } from '../src/domain/response-body';

/**
 * The SSRF-safe outbound client. Every address a request could reach is checked: a literal
 * IP in the URL before connecting, and every address a name resolves to inside the
 * connection's own lookup, so the connection uses exactly the address that was checked
 * (no second resolution, hence no DNS rebinding). Only public unicast addresses pass,
 * unless a range is listed in HOOKFLOW_ALLOWED_CIDRS. Redirects are never followed.
 */
export class BlockedAddressError extends Error {
  readonly code = 'EBLOCKED';
  constructor(readonly address: string) {
    super(`Address ${address} is in a private, loopback, link-local or reserved range`);
  }
}

export type Cidr = [ipaddr.IPv4 | ipaddr.IPv6, number];

export function parseCidrs(list: string[]): Cidr[] {
  return list.map((c) => ipaddr.parseCIDR(c.includes('/') ? c : `${c}/${c.includes(':') ? 128 : 32}`));
}

export function isAllowedAddress(address: string, allowed: Cidr[]): boolean {
  let ip: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    // process() turns IPv4-mapped IPv6 (::ffff:127.0.0.1) into the IPv4 it carries.
    ip = ipaddr.process(address);
  } catch {
    return false;
  }
  for (const [range, bits] of allowed) {
    if (range.kind() === ip.kind() && ip.match(range as never, bits)) return true;
  }
  return ip.range() === 'unicast';
}

export interface SendResult {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  /** The first `maxResponseBytes` of the response, as text PostgreSQL can store (storableBody). */
  body: string;
  /** The response was longer than what `body` keeps. */
  truncated: boolean;
  durationMs: number;
}

export interface HttpClientOptions {
  timeoutMs: number;
  allowedCidrs: string[];
  maxResponseBytes?: number;
  connections?: number;
}

export class SafeHttpClient {
  private readonly agent: Agent;
  private readonly allowed: Cidr[];

  constructor(private readonly opts: HttpClientOptions) {
    this.allowed = parseCidrs(opts.allowedCidrs);
    this.agent = new Agent({
      connections: opts.connections ?? 128,
      keepAliveTimeout: 10_000,
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
      connect: { timeout: Math.min(opts.timeoutMs, 10_000), lookup: this.lookup },
    });
  }

  private lookup = (
    hostname: string,
    options: dns.LookupOptions,
    callback: (
      err: NodeJS.ErrnoException | null,
      address: string | dns.LookupAddress[],
      family?: number,
    ) => void,
  ) => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '');
      const list = addresses as dns.LookupAddress[];
      const blocked = list.find((a) => !isAllowedAddress(a.address, this.allowed));
      if (blocked) return callback(new BlockedAddressError(`${blocked.address} (${hostname})`), '');
      if (options.all) return callback(null, list);
      callback(null, list[0].address, list[0].family);
    });
  };

  /** Throws BlockedAddressError for a URL whose literal host is not allowed. */
  checkUrl(url: URL): void {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (net.isIP(host) && !isAllowedAddress(host, this.allowed)) throw new BlockedAddressError(host);
  }

  async send(
    url: string,
    init: { method: string; headers: Record<string, string>; body?: string },
  ): Promise<SendResult> {
    const target = new URL(url);
    this.checkUrl(target);
    const started = performance.now();
    const res = await request(target, {
      method: init.method as 'POST',
      headers: init.headers,
      body: init.method === 'GET' ? undefined : init.body,
      dispatcher: this.agent,
      signal: AbortSignal.timeout(this.opts.timeoutMs),
    } as Parameters<typeof request>[1]);
    const max = this.opts.maxResponseBytes ?? 20_000;
    const { text, truncated } = storableBody(await readCapped(res.body, max), max);
    return {
      statusCode: res.statusCode,
      headers: res.headers,
      body: text,
      truncated,
      durationMs: Math.round(performance.now() - started),
    };
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

/**
 * Reads a response up to one byte past `max` (so a cut is known) and drops the rest
 * without buffering it: a 5 MB answer costs 20 kB of memory.
 */
async function readCapped(
  body: AsyncIterable<Buffer> & { destroy?: () => void },
  max: number,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size > max) {
      body.destroy?.();
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, max + 1);
}

export function isTimeout(err: unknown): boolean {
  const e = err as { name?: string; code?: string };
  return (
    err instanceof undiciErrors.HeadersTimeoutError ||
    err instanceof undiciErrors.BodyTimeoutError ||
    err instanceof undiciErrors.ConnectTimeoutError ||
    e?.name === 'TimeoutError' ||
    e?.code === 'UND_ERR_CONNECT_TIMEOUT'
  );
}
