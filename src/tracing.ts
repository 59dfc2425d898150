import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { Resource } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import type { Config } from './config';

/**
 * OpenTelemetry tracing through Temporal's interceptors, on when OTEL_EXPORTER_OTLP_ENDPOINT
 * is set: a trace follows a message from the API's workflow start through the workflow and
 * each attempt. Off, nothing of it is loaded into the workflow bundle.
 */
export interface Tracing {
  resource: Resource;
  processor: SpanProcessor;
  shutdown(): Promise<void>;
}

export function setupTracing(config: Config, processor?: SpanProcessor): Tracing | null {
  if (!config.OTEL_EXPORTER_OTLP_ENDPOINT && !processor) return null;
  const resource = new Resource({ 'service.name': config.OTEL_SERVICE_NAME });
  const spanProcessor =
    processor ??
    new BatchSpanProcessor(
      new OTLPTraceExporter({ url: `${config.OTEL_EXPORTER_OTLP_ENDPOINT!.replace(/\/$/, '')}/v1/traces` }),
    );
  const provider = new BasicTracerProvider({ resource, spanProcessors: [spanProcessor] });
  // The W3C propagator carries the trace through workflow and activity headers; the context
  // manager keeps the active span across awaits, so a start is injected with its own span.
  provider.register({
    propagator: new W3CTraceContextPropagator(),
    contextManager: new AsyncLocalStorageContextManager(),
  });
  return { resource, processor: spanProcessor, shutdown: () => provider.shutdown() };
}

/** The workflow-side interceptors, bundled with the workflows when tracing is on. */
export const workflowInterceptorModule = () => require.resolve('../workflows/tracing-interceptors');
