/**
 * Workflow-side tracing, bundled only when tracing is on. The workflow sandbox has a global
 * scope of its own, so the W3C propagator is registered here too: without it the trace
 * context would not cross from the client's start into the workflow, nor on to activities.
 */
import { propagation } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

propagation.setGlobalPropagator(new W3CTraceContextPropagator());

export { interceptors } from '@temporalio/interceptors-opentelemetry/lib/workflow-interceptors';
