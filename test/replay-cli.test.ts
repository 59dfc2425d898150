import { PassThrough } from 'node:stream';
import { newId } from '../src/ids';
import { parseWhen, replayCommand, runReplay, type CliIo } from '../src/cli/replay';
import { startStack, type Stack } from './harness/stack';
import { Receiver } from './harness/receiver';
import { seedApp, seedEndpoint } from './harness/seed';
import { eventually } from './harness/wait';

/** `hookflow replay` against a running API, as it would run against a remote Hookflow. */
describe('hookflow replay (CLI)', () => {
  let stack: Stack;
  let receiver: Receiver;
  const seen = new Set<string>();

  beforeAll(async () => {
    stack = await startStack();
    receiver = await new Receiver().listen();
    receiver.behaviour = (r) => (seen.add(`${r.id} ${r.path}`), { status: 200 });
  });
  afterAll(async () => {
    await stack?.close();
    await receiver?.close();
  });

  async function appWithMissing(n: number, path: string) {
    const appId = await seedApp(stack.services);
    await seedEndpoint(stack.services, appId, { url: receiver.url(path) });
    const ids = Array.from({ length: n }, (_, i) => newId('msg', Date.now() - 30_000 + i));
    await stack.services.orm.em.getConnection().execute(
      `insert into messages (id, app_id, event_type, expires_at) values ${ids.map(() => `(?, ?, 'cli.event', now() + interval '1 day')`).join(', ')}`,
      ids.flatMap((id) => [id, appId]),
    );
    await stack.services.orm.em
      .getConnection()
      .execute(
        `insert into message_content (msg_id, payload, expires_at) values ${ids.map(() => `(?, '{}', now() + interval '1 day')`).join(', ')}`,
        ids,
      );
    return { appId, ids };
  }

  function io(tty = false) {
    const out: string[] = [];
    const err: string[] = [];
    const stream = new PassThrough();
    const drawn: string[] = [];
    stream.on('data', (c) => drawn.push(String(c)));
    Object.assign(stream, { isTTY: true, columns: 120 });
    let interrupt: (() => void) | null = null;
    const value: CliIo = {
      out: (l) => out.push(l),
      err: (l) => err.push(l),
      tty,
      stream,
      onInterrupt: (h) => void (interrupt = h),
    };
    return { value, out, err, drawn, interrupt: () => interrupt?.() };
  }

  it('starts a replay, follows it to the end and prints the task as JSON', async () => {
    const { appId, ids } = await appWithMissing(20, '/cli-json');
    const o = io();
    const code = await runReplay(
      {
        app: appId,
        since: '5m',
        status: 'missing',
        url: stack.url,
        token: stack.adminToken,
        json: true,
        pollMs: 100,
      },
      o.value,
    );
    expect(o.err).toEqual([]);
    expect(code).toBe(0);
    const task = JSON.parse(o.out[o.out.length - 1]);
    expect(task).toMatchObject({
      status: 'finished',
      task: 'application.replay',
      data: { total: 20, matched: 20, started: 20 },
    });
    await eventually(() => ids.every((m) => seen.has(`${m} /cli-json`)), 'the replayed deliveries');
  });

  it('draws a progress bar on a terminal', async () => {
    const { appId } = await appWithMissing(10, '/cli-bar');
    const o = io(true);
    const code = await runReplay(
      { app: appId, since: '5m', status: 'missing', url: stack.url, token: stack.adminToken, pollMs: 100 },
      o.value,
    );
    expect(code).toBe(0);
    expect(o.drawn.join('')).toMatch(/replay \|.*\| 10\/10 100%/);
    expect(o.out[o.out.length - 1]).toMatch(/finished: 10 matched of 10, 10 started, 0 skipped/);
  });

  it('works with an app token, and cancels on interrupt with a non-zero exit', async () => {
    const { appId } = await appWithMissing(60, '/cli-cancel');
    const token = await stack.services.tokens.issueAppToken(appId);
    const o = io();
    const running = runReplay(
      { app: appId, since: '5m', status: 'missing', url: stack.url, token, rateLimit: 5, pollMs: 100 },
      o.value,
    );
    // Interrupt once the task exists (the "started" line is printed right after the 202).
    while (!o.out.some((l) => l.includes('started'))) await new Promise((r) => setTimeout(r, 50));
    o.interrupt();
    expect(await running).toBe(1);
    expect(o.out[o.out.length - 1]).toMatch(/cancelled: \d+ matched of 60/);
  });

  it('exits 2 with the reason when the API refuses, or no token is given', async () => {
    const appId = await seedApp(stack.services);
    const future = io();
    const soon = new Date(Date.now() + 86_400_000).toISOString();
    expect(
      await runReplay(
        { app: appId, since: soon, status: 'all', url: stack.url, token: stack.adminToken },
        future.value,
      ),
    ).toBe(2);
    expect(future.err.join('\n')).toMatch(/since: must not be in the future/);

    const unknown = io();
    expect(
      await runReplay(
        { app: 'app_nope', since: '1h', status: 'all', url: stack.url, token: stack.adminToken },
        unknown.value,
      ),
    ).toBe(2);
    expect(unknown.err.join('\n')).toMatch(/404/);

    const noToken = io();
    expect(await runReplay({ app: appId, since: '1h', status: 'all', url: stack.url }, noToken.value)).toBe(
      2,
    );
    expect(noToken.err.join('\n')).toMatch(/token/);

    const badDate = io();
    expect(
      await runReplay(
        { app: appId, since: 'last tuesday', status: 'all', url: stack.url, token: 't' },
        badDate.value,
      ),
    ).toBe(2);
    expect(badDate.err.join('\n')).toMatch(/not a date/);
  });

  it('parses its command line (repeatable filters, token from the environment)', async () => {
    const { appId } = await appWithMissing(3, '/cli-args');
    const writes: string[] = [];
    const spy = jest
      .spyOn(process.stdout, 'write')
      .mockImplementation((chunk: any) => (writes.push(String(chunk)), true));
    const previous = process.env.HOOKFLOW_ADMIN_TOKEN;
    process.env.HOOKFLOW_ADMIN_TOKEN = stack.adminToken;
    let exitCode: number | null = null;
    try {
      await replayCommand((c) => void (exitCode = c)).parseAsync(
        [
          '--app',
          appId,
          '--since',
          '10m',
          '--status',
          'missing',
          '--event-type',
          'cli.event,other.event',
          '--url',
          stack.url,
          '--json',
        ],
        { from: 'user' },
      );
    } finally {
      spy.mockRestore();
      process.env.HOOKFLOW_ADMIN_TOKEN = previous;
    }
    expect(exitCode).toBe(0);
    const task = JSON.parse(writes.join('').trim().split('\n').pop()!);
    expect(task.data).toMatchObject({ matched: 3, eventTypes: ['cli.event', 'other.event'] });
  });

  it('reads relative and absolute times', () => {
    const now = Date.parse('2026-01-10T12:00:00Z');
    expect(parseWhen('2h', now)).toBe('2026-01-10T10:00:00.000Z');
    expect(parseWhen('7d', now)).toBe('2026-01-03T12:00:00.000Z');
    expect(parseWhen('2026-01-01T00:00:00+01:00')).toBe('2025-12-31T23:00:00.000Z');
    expect(() => parseWhen('soon')).toThrow(/not a date/);
  });
});
