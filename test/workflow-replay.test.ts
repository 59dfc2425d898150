import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { startStack } from './harness/stack';
import { Receiver } from './harness/receiver';
import { seedApp, seedEndpoint } from './harness/seed';
import { eventually } from './harness/wait';
import { endpointDisabledSignal, attemptsQuery } from '../workflows/definitions';

/**
 * Determinism guard: recorded DeliverMessage histories (test/fixtures/histories/*.pb) (success, retries, exhaustion,
 * 410, cancel by signal, throttle wait) must replay on the current workflow code. A change that would
 * break running deliveries fails here. `deliver-*` were recorded when the attempt was one
 * activity, `local-*` with local-activity steps, `failing-status-*` started with no status
 * (DeliverMessageInput.failingStatus). `RECORD_HISTORIES=<prefix>` records the current code's
 * as `<prefix>-*.pb`, for a new version of the input; it never overwrites a recorded file.
 */
const dir = path.join(__dirname, 'fixtures', 'histories');
const prefix = process.env.RECORD_HISTORIES;

describe('workflow replay', () => {
  if (prefix) {
    it('records histories', async () => {
      const stack = await startStack({ HOOKFLOW_RETRY_SCHEDULE: '1,1' });
      const receiver = await new Receiver().listen();
      try {
        const appId = await seedApp(stack.services);
        const scenarios: Record<string, (r: Receiver) => void> = {
          success: (r) => (r.behaviour = () => ({ status: 200 })),
          'retry-then-success': (r) => (r.behaviour = (_q, n) => ({ status: n === 1 ? 500 : 200 })),
          exhausted: (r) => (r.behaviour = () => ({ status: 500 })),
          gone: (r) => (r.behaviour = () => ({ status: 410 })),
        };
        for (const [name, setup] of Object.entries(scenarios)) {
          receiver.received.length = 0;
          setup(receiver);
          const ep = await seedEndpoint(stack.services, appId, { url: receiver.url(`/${name}`) });
          const res = await stack.call('POST', `/api/v1/app/${appId}/msg`, {
            eventType: 'a.b',
            payload: { name },
          });
          const handle = stack.services.temporal.workflow.getHandle(`deliver-${res.body.id}-${ep.id}`);
          await eventually(() => handle.describe().then(() => true), 'start');
          await handle.result();
          record(name, encode(await handle.fetchHistory()));
          await seedEndpointDisable(stack, ep.id);
        }
        // A throttled endpoint: the second delivery waits for its slot on a durable timer.
        receiver.behaviour = () => ({ status: 200 });
        const throttled = await seedEndpoint(stack.services, appId, {
          url: receiver.url('/throttled'),
          throttleRate: 1,
        });
        const sent = [];
        for (let i = 0; i < 3; i++)
          sent.push(
            await stack.call('POST', `/api/v1/app/${appId}/msg`, { eventType: 'a.b', payload: { i } }),
          );
        const last = stack.services.temporal.workflow.getHandle(`deliver-${sent[2].body.id}-${throttled.id}`);
        await eventually(() => last.describe().then(() => true), 'start');
        await last.result();
        record('throttled', encode(await last.fetchHistory()));
        await seedEndpointDisable(stack, throttled.id);
        // Cancelled by the endpointDisabled signal while waiting for a retry.
        const slow = await startStack({ HOOKFLOW_RETRY_SCHEDULE: '3600' });
        try {
          receiver.behaviour = () => ({ status: 500 });
          const ep = await seedEndpoint(slow.services, appId, { url: receiver.url('/cancel') });
          const res = await slow.call('POST', `/api/v1/app/${appId}/msg`, { eventType: 'a.b', payload: {} });
          const handle = slow.services.temporal.workflow.getHandle(`deliver-${res.body.id}-${ep.id}`);
          await eventually(async () => (await handle.query(attemptsQuery)).length === 1, 'first attempt');
          await handle.signal(endpointDisabledSignal, { reason: 'recording' });
          await handle.result();
          record('cancelled', encode(await handle.fetchHistory()));
        } finally {
          await slow.close();
        }
      } finally {
        await stack.close();
        await receiver.close();
      }
    });
  }

  it('replays every recorded history on the current workflow code', async () => {
    const files = readdirSync(dir).filter((f) => f.endsWith('.pb'));
    expect(files.length).toBeGreaterThanOrEqual(18);
    const histories = files.map((f) => ({
      workflowId: f.replace(/\.pb$/, ''),
      history: temporal.api.history.v1.History.decode(readFileSync(path.join(dir, f))),
    }));
    const failures: string[] = [];
    for await (const result of Worker.runReplayHistories(
      { workflowBundle: { codePath: process.env.HOOKFLOW_TEST_BUNDLE! } },
      histories,
    )) {
      if (result.error) failures.push(`${result.workflowId}: ${String(result.error)}`);
    }
    expect(failures).toEqual([]);
  });
});

describe('the failing-status histories', () => {
  it('start with no status and say failing while they wait for a retry', () => {
    const file = path.join(dir, 'failing-status-retry-then-success.pb');
    const { events } = temporal.api.history.v1.History.decode(readFileSync(file));
    const status = (fields?: Record<string, temporal.api.common.v1.IPayload> | null) =>
      fields?.HookflowStatus?.data ? JSON.parse(Buffer.from(fields.HookflowStatus.data).toString()) : null;
    const started = events[0].workflowExecutionStartedEventAttributes!;
    expect(Object.keys(started.searchAttributes!.indexedFields!).sort()).toEqual([
      'HookflowApp',
      'HookflowEndpoint',
      'HookflowEventType',
      'HookflowMessage',
      'HookflowTrigger',
    ]);
    const upserts = events
      .map((e) => e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields)
      .filter(Boolean)
      .map(status);
    expect(upserts).toEqual(['failing', 'success']);
  });
});

/** A recorded history is what running deliveries did: never replaced. */
function record(name: string, data: Buffer): void {
  const file = path.join(dir, `${prefix}-${name}.pb`);
  if (existsSync(file))
    throw new Error(`${file} is recorded already: choose another RECORD_HISTORIES prefix`);
  writeFileSync(file, data);
}

/** Histories are kept in protobuf's binary form: exact, and independent of JSON conventions. */
function encode(history: temporal.api.history.v1.IHistory): Buffer {
  return Buffer.from(temporal.api.history.v1.History.encode(history).finish());
}

async function seedEndpointDisable(stack: Awaited<ReturnType<typeof startStack>>, endpointId: string) {
  // Keep later scenarios' messages away from earlier endpoints.
  await stack.services.orm.em
    .getConnection()
    .execute('update endpoints set disabled = true where id = ?', [endpointId]);
}
