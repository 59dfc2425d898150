import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/**
 * The loopback receiver every scenario posts to (Hookflow's worker, the bare-Temporal
 * activity and the raw HTTP client alike). It counts deliveries by `webhook-id` and path
 * (fan-out sends one id to many endpoints, one path each) and records when each first
 * arrived. Signatures are checked on a sample only, so verification does not become the
 * bottleneck it would be on 2 cores; a bad signature fails the run.
 */
export class BenchReceiver {
  private readonly firstSeen = new Map<string, number>();
  private waiters: Array<{ key: string; count: number; resolve: () => void }> = [];
  private readonly counts = new Map<string, number>();
  readonly secrets = new Map<string, string>();
  duplicates = 0;
  verified = 0;
  badSignatures = 0;
  private server: http.Server;
  private requests = 0;

  constructor() {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const at = performance.now();
        const id = String(req.headers['webhook-id'] ?? '');
        const route = (req.url ?? '/').split('?')[0];
        const key = `${route} ${id}`;
        if (this.firstSeen.has(key)) this.duplicates++;
        else {
          this.firstSeen.set(key, at);
          const scope = route.split('/')[1] ?? '';
          this.counts.set(scope, (this.counts.get(scope) ?? 0) + 1);
          this.wake(scope);
        }
        const secret = this.secrets.get(route);
        if (secret && this.requests++ % 50 === 0)
          this.check(secret, req.headers, Buffer.concat(chunks).toString('utf8'));
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
        res.end('ok');
      });
    });
    this.server.keepAliveTimeout = 65_000;
  }

  private check(secret: string, headers: http.IncomingHttpHeaders, body: string): void {
    try {
      new Webhook(secret).verify(body, {
        'webhook-id': String(headers['webhook-id']),
        'webhook-timestamp': String(headers['webhook-timestamp']),
        'webhook-signature': String(headers['webhook-signature']),
      });
      this.verified++;
    } catch {
      this.badSignatures++;
    }
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', () => resolve()));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Distinct deliveries under `/<scope>/…`. */
  count(scope: string): number {
    return this.counts.get(scope) ?? 0;
  }

  /** When `<path> <webhook-id>` first arrived (performance.now()), if it did. */
  receivedAt(path: string, id: string): number | undefined {
    return this.firstSeen.get(`${path} ${id}`);
  }

  /** Receipt times of every delivery under a scope. */
  timesOf(scope: string): number[] {
    const out: number[] = [];
    for (const [key, at] of this.firstSeen)
      if (key.startsWith(`/${scope}/`) || key.startsWith(`/${scope} `)) out.push(at);
    return out;
  }

  /** Resolves when `scope` has `count` distinct deliveries, or rejects after the timeout. */
  waitFor(scope: string, count: number, timeoutMs: number): Promise<void> {
    if (this.count(scope) >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(
          new Error(
            `receiver got ${this.count(scope)} of ${count} deliveries for ${scope} within ${timeoutMs / 1000}s`,
          ),
        );
      }, timeoutMs);
      const done = () => (clearTimeout(timer), resolve());
      this.waiters.push({ key: scope, count, resolve: done });
    });
  }

  private wake(scope: string): void {
    const n = this.count(scope);
    const ready = this.waiters.filter((w) => w.key === scope && n >= w.count);
    if (!ready.length) return;
    this.waiters = this.waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve();
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
