/**
 * Workflow-side tracing, bundled only when tracing is on. The workflow sandbox has global
 * state of its own per workflow, so the W3C propagator is registered each time the
 * interceptors are made: without it the trace context would not cross from the client's
 * start into the workflow, nor on to activities.
 */
import { propagation } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { interceptors as tracingInterceptors } from '@temporalio/interceptors-opentelemetry/lib/workflow-interceptors';

export const interceptors = () => {
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  return tracingInterceptors();
};
