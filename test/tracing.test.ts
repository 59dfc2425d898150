import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { bundleWorkflows } from '../src/worker';
import { startStack } from './harness/stack';
import { Receiver } from './harness/receiver';
import { seedApp, seedEndpoint } from './harness/seed';
import { eventually } from './harness/wait';

/** With tracing on, one trace follows a message: the API's start, the workflow, the attempt. */
describe('OpenTelemetry tracing', () => {
  it('links the workflow start, the workflow run and the attempt in one trace', async () => {
    const exporter = new InMemorySpanExporter();
    const bundle = await bundleWorkflows({ tracing: true });
    const stack = await startStack({}, { spanProcessor: new SimpleSpanProcessor(exporter), bundle });
    const receiver = await new Receiver().listen();
    try {
      const appId = await seedApp(stack.services);
      const ep = await seedEndpoint(stack.services, appId, { url: receiver.url() });
      const res = await stack.call('POST', `/api/v1/app/${appId}/msg`, { eventType: 'a.b', payload: {} });
      const handle = stack.services.temporal.workflow.getHandle(`deliver-${res.body.id}-${ep.id}`);
      await eventually(() => handle.describe().then(() => true), 'the delivery to start');
      expect(await handle.result()).toMatchObject({ status: 'success' });
      const spans = await eventually(() => {
        const all = exporter.getFinishedSpans();
        const names = all.map((s) => s.name);
        return [
          'StartWorkflow:DeliverMessage',
          'RunWorkflow:DeliverMessage',
          'RunActivity:attemptStep',
        ].every((n) => names.includes(n))
          ? all
          : null;
      }, 'the three spans');
      // One trace: the API's start → the workflow run → the attempt's start → the attempt.
      const byName = (n: string) => spans.find((s) => s.name === n)!;
      const start = byName('StartWorkflow:DeliverMessage');
      const run = byName('RunWorkflow:DeliverMessage');
      const startActivity = byName('StartActivity:attemptStep');
      const attempt = byName('RunActivity:attemptStep');
      expect(new Set([start, run, startActivity, attempt].map((s) => s.spanContext().traceId)).size).toBe(1);
      expect(run.parentSpanId).toBe(start.spanContext().spanId);
      expect(startActivity.parentSpanId).toBe(run.spanContext().spanId);
      expect(attempt.parentSpanId).toBe(startActivity.spanContext().spanId);
    } finally {
      await stack.close();
      await receiver.close();
    }
  });
});
