import http from 'node:http';
import type { TelemetryOptions } from '@temporalio/worker';
import { freePort } from './dev-server';

/**
 * The Temporal SDK's worker metrics (task slots, pollers, schedule-to-start and execution
 * latencies, sticky cache, failed workflow tasks such as a deadlock) are kept by its Rust
 * core, which exports them only through a Prometheus server of its own or to an
 * OpenTelemetry collector. The worker's runtime binds that server on loopback, on a port of
 * its own, and `/metrics` appends what it serves: one scrape target, behind the same token,
 * for Hookflow's metrics and the SDK's. Names follow Prometheus' conventions (seconds,
 * `_total`), all prefixed `temporal_`.
 */
let source: string | null = null;

/** The runtime's telemetry options, made before the runtime is installed (once per process). */
export async function sdkMetricsTelemetry(): Promise<TelemetryOptions> {
  const port = await freePort();
  source = `http://127.0.0.1:${port}/metrics`;
  return {
    metrics: {
      prometheus: {
        bindAddress: `127.0.0.1:${port}`,
        countersTotalSuffix: true,
        unitSuffix: true,
        useSecondsForDurations: true,
      },
    },
  };
}

/** The runtime did not take them (another runtime was installed first): nothing to append. */
export function sdkMetricsUnavailable(): void {
  source = null;
}

/**
 * The SDK's metrics in Prometheus' text format, or nothing in a process without a worker (or
 * while its runtime is shutting down): Hookflow's own metrics answer either way. A connection
 * of its own per scrape (no keep-alive: a pooled socket the exporter has closed would fail it).
 */
export function sdkMetricsText(): Promise<string> {
  const url = source;
  if (!url) return Promise.resolve('');
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: 2000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve(res.statusCode === 200 ? text : ''));
      res.on('error', () => resolve(''));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(''));
  });
}
