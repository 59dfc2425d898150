import { startStack } from './harness/stack';
import { Receiver } from './harness/receiver';
import { seedApp, seedEndpoint } from './harness/seed';
import { auditDelivered } from './harness/audit';
import { spawnWorker } from './harness/processes';
import { postMany } from './harness/post';

/** Load and misbehaving receivers: everything accepted is delivered, each ending in an audit. */
describe('bursts and misbehaving receivers', () => {
  it('accepts a burst far beyond the dispatch rate and drains it with nothing lost', async () => {
    // Two workflow starts at a time: the API must still accept everything at once.
    const stack = await startStack({ HOOKFLOW_DISPATCH_CONCURRENCY: '2' });
    const receiver = await new Receiver().listen();
    try {
      const appId = await seedApp(stack.services);
      const a = await seedEndpoint(stack.services, appId, { url: receiver.url('/a') });
      const b = await seedEndpoint(stack.services, appId, { url: receiver.url('/b') });
      receiver.secrets = [a.secret, b.secret];
      const ids = await postMany(stack, appId, 300);
      expect(new Set(ids).size).toBe(300);
      // The backlog was real: accepted faster than started.
      const { duplicates } = await auditDelivered(receiver, ids, ['/a', '/b']);
      expect(duplicates).toBe(0);
      expect(receiver.received.every((r) => r.verified)).toBe(true);
    } finally {
      await stack.close();
      await receiver.close();
    }
  });

  it('delivers everything to receivers that hang, reset, answer slowly, fail at random and throttle', async () => {
    const stack = await startStack({
      HOOKFLOW_RETRY_SCHEDULE: '0.2,0.2,0.2,0.2,0.2,0.2,0.2,0.2',
      // Well above the answers that must count (at most 300 ms): a 2xx the worker stops waiting
      // for is retried and arrives twice, which on a loaded machine would be a false duplicate.
      HOOKFLOW_HTTP_TIMEOUT_MS: '2500',
    });
    const receiver = await new Receiver().listen();
    try {
      const appId = await seedApp(stack.services);
      const paths = ['/hang', '/reset', '/slow', '/flaky', '/throttle'];
      for (const p of paths) await seedEndpoint(stack.services, appId, { url: receiver.url(p) });
      // Deterministic misbehaviour: the first request of each message to each endpoint misbehaves, the next succeeds.
      const seen = new Map<string, number>();
      receiver.behaviour = (r) => {
        const k = `${r.id} ${r.path}`;
        const n = (seen.get(k) ?? 0) + 1;
        seen.set(k, n);
        if (n > 1) return r.path === '/slow' ? { status: 200, delayMs: 300 } : { status: 200 };
        switch (r.path) {
          case '/hang':
            return { hang: true };
          case '/reset':
            return { destroy: true };
          case '/slow':
            return { status: 200, delayMs: 4000 }; // beyond the timeout
          case '/flaky':
            return { status: [500, 502, 503][r.body.length % 3] };
          default:
            return { status: 429, headers: { 'retry-after': '0' } };
        }
      };
      const ids = await postMany(stack, appId, 20, 4);
      // 429s and timeouts wait at least a minute by design: bound generously.
      const { duplicates } = await auditDelivered(receiver, ids, paths, { timeoutMs: 240_000 });
      expect(duplicates).toBe(0);
    } finally {
      await stack.close();
      await receiver.close();
    }
  });

  it('delivers a whole burst when the worker is SIGKILLed in the middle of it and another takes over', async () => {
    const stack = await startStack(
      { HOOKFLOW_HTTP_TIMEOUT_MS: '2000', HOOKFLOW_RETRY_SCHEDULE: '1,1' },
      { worker: false },
    );
    const child = spawnWorker(stack.config);
    const receiver = await new Receiver().listen();
    try {
      const appId = await seedApp(stack.services);
      await seedEndpoint(stack.services, appId, { url: receiver.url('/a') });
      receiver.behaviour = () => ({ status: 200, delayMs: 20 });
      const ids = await postMany(stack, appId, 200, 8);
      const { eventually } = await import('./harness/wait');
      await eventually(() => receiver.received.length >= 20, 'the child worker delivering', {
        timeoutMs: 120_000,
      });
      child.kill('SIGKILL');
      await stack.restartWorker();
      const { duplicates } = await auditDelivered(receiver, ids, ['/a']);
      // A kill can repeat only the attempts that were in flight at that moment.
      expect(duplicates).toBeLessThanOrEqual(stack.config.HOOKFLOW_WORKER_CONCURRENCY);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await stack.close();
      await receiver.close();
    }
  });
});
