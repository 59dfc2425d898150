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

/** The SDK's metrics in Prometheus' text format, or nothing in a process without a worker. */
export async function sdkMetricsText(): Promise<string> {
  if (!source) return '';
  try {
    const res = await fetch(source, { signal: AbortSignal.timeout(2000) });
    return res.ok ? await res.text() : '';
  } catch {
    // The worker is shutting down, or its runtime failed to bind: Hookflow's own metrics still answer.
    return '';
  }
}
