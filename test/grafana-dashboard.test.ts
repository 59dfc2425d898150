import { readFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { faultyWorkflowsBundle, startStack, type Stack } from './harness/stack';
import { Receiver } from './harness/receiver';
import { seedApp, seedEndpoint } from './harness/seed';
import { eventually } from './harness/wait';
import { selectorsOf, type Selector } from './harness/promql';
import { deliveryWorkflowId } from '../workflows/definitions';

/**
 * docs/grafana/hookflow.json imports as it is (its Prometheus datasource is an input), and
 * every series a panel queries is on /metrics after real deliveries, with the labels the panel
 * matches and groups by: Hookflow's own metrics and the Temporal SDK's worker metrics alike.
 */
const doc = path.join(__dirname, '..', 'docs');
const dashboard = JSON.parse(readFileSync(path.join(doc, 'grafana', 'hookflow.json'), 'utf8'));
/** Labels Prometheus adds when it scrapes, never on /metrics itself. */
const TARGET_LABELS = new Set(['instance', 'job']);

interface Panel {
  type: string;
  id: number;
  title: string;
  datasource?: { type: string; uid: string };
  gridPos: { h: number; w: number; x: number; y: number };
  targets?: Array<{ expr: string; datasource?: { uid: string } }>;
}
const panels: Panel[] = dashboard.panels;
const queried = panels.filter((p) => p.type !== 'row');

/** Every sample of the exposition text: metric name → label → values seen. */
function series(text: string): Map<string, Map<string, Set<string>>> {
  const out = new Map<string, Map<string, Set<string>>>();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? \S+/.exec(line);
    if (!m) continue;
    const labels = out.get(m[1]) ?? new Map<string, Set<string>>();
    out.set(m[1], labels);
    for (const [, name, value] of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels.set(name, (labels.get(name) ?? new Set()).add(value));
  }
  return out;
}

describe('the Grafana dashboard', () => {
  it('imports as it is: a Prometheus datasource input, used by every panel and query', () => {
    expect(dashboard.__inputs).toEqual([
      expect.objectContaining({ name: 'DS_PROMETHEUS', type: 'datasource', pluginId: 'prometheus' }),
    ]);
    expect(dashboard).toMatchObject({ id: null, uid: 'hookflow', title: 'Hookflow' });
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
    for (const p of queried) {
      expect([p.title, p.datasource]).toEqual([p.title, { type: 'prometheus', uid: '${DS_PROMETHEUS}' }]);
      expect(p.targets?.length).toBeGreaterThan(0);
      for (const t of p.targets!) expect(t.datasource?.uid).toBe('${DS_PROMETHEUS}');
      expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
    }
  });

  it('documents every Hookflow metric it queries in docs/operations.md', () => {
    const operations = readFileSync(path.join(doc, 'operations.md'), 'utf8');
    const names = queried.flatMap((p) => p.targets!.flatMap((t) => selectorsOf(t.expr).map((s) => s.metric)));
    const hookflow = [...new Set(names.filter((n) => n.startsWith('hookflow_')))];
    const family = (n: string) => n.replace(/_(bucket|count|sum)$/, '');
    expect(hookflow.filter((n) => !operations.includes(`\`${family(n)}\``))).toEqual([]);
  });

  describe('on /metrics after real deliveries', () => {
    const token = `metrics_${randomBytes(12).toString('hex')}`;
    let stack: Stack;
    let receiver: Receiver;
    beforeAll(async () => {
      stack = await startStack(
        { HOOKFLOW_METRICS_TOKEN: token, HOOKFLOW_RETRY_SCHEDULE: '1' },
        { bundle: await faultyWorkflowsBundle() },
      );
      receiver = await new Receiver().listen();
    });
    afterAll(async () => {
      await stack?.close();
      await receiver?.close();
    });

    it('has every series a panel queries, with the labels it uses', async () => {
      receiver.behaviour = (req) => ({
        status: req.path === '/down' ? 500 : req.path === '/gone' ? 410 : 200,
      });
      const appId = await seedApp(stack.services);
      const outcomes = { ok: 'success', down: 'failed', gone: 'cancelled' };
      for (const [name, status] of Object.entries(outcomes)) {
        const ep = await seedEndpoint(stack.services, appId, {
          url: receiver.url(`/${name}`),
          eventTypes: [name],
        });
        const res = await stack.call('POST', `/api/v1/app/${appId}/msg`, { eventType: name, payload: {} });
        expect(res.status).toBe(202);
        const handle = stack.services.temporal.workflow.getHandle(deliveryWorkflowId(res.body.id, ep.id));
        await eventually(() => handle.describe().then(() => true), `the ${name} delivery to start`);
        expect((await handle.result()).status).toBe(status);
      }
      const temporal = stack.services.temporal.workflow;
      const taskQueue = stack.config.TEMPORAL_TASK_QUEUE;
      // A reconciler pass, as its schedule runs it, and a workflow task that fails (a bug).
      await temporal.execute('Reconcile', {
        taskQueue,
        workflowId: `reconcile-${randomBytes(6).toString('hex')}`,
      });
      const broken = await temporal.start('Broken', {
        taskQueue,
        workflowId: `broken-${randomBytes(6).toString('hex')}`,
      });

      const scrape = async () => {
        const res = await fetch(`${stack.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
        expect(res.status).toBe(200);
        return series(await res.text());
      };
      const selectors: Array<Selector & { panel: string }> = queried.flatMap((p) =>
        p.targets!.flatMap((t) => selectorsOf(t.expr).map((s) => ({ ...s, panel: p.title }))),
      );
      /** What a panel needs that the scrape lacks, one line each. */
      const missing = (have: Map<string, Map<string, Set<string>>>) =>
        selectors.flatMap(({ panel, metric, matchers, groupedBy }) => {
          const labels = have.get(metric);
          if (!labels) return [`${panel}: ${metric}`];
          return [
            ...[...matchers.map((m) => m.label), ...groupedBy]
              .filter((l) => !TARGET_LABELS.has(l) && !labels.has(l))
              .map((l) => `${panel}: ${metric} has no label ${l}`),
            ...matchers
              .filter((m) => m.op === '=' && !labels.get(m.label)?.has(m.value))
              .map((m) => `${panel}: ${metric} has no ${m.label}="${m.value}"`),
          ];
        });
      // The SDK exports its metrics every few seconds and the failed task may be retried first.
      let last: string[] = [];
      await eventually(
        async () => (last = missing(await scrape())).length === 0,
        'every series of the dashboard',
      ).catch(() => expect(last).toEqual([]));
      expect(selectors.some((s) => s.metric.startsWith('temporal_'))).toBe(true);
      // Every scrape has the SDK's metrics, not only the first (a connection of its own each time).
      for (let i = 0; i < 3; i++)
        expect([...(await scrape()).keys()].filter((n) => n.startsWith('temporal_')).length).toBeGreaterThan(
          10,
        );
      await broken.terminate('test over');
    });
  });
});
