import { execFile } from 'node:child_process';
import path from 'node:path';
import { runSend, type SendInput } from '../src/cli/send';
import { startStack, type Stack } from './harness/stack';
import { Receiver } from './harness/receiver';
import { seedApp, seedEndpoint } from './harness/seed';

const cli = path.join(__dirname, '..', 'dist', 'src', 'cli', 'index.js');

describe('hookflow send against a real stack', () => {
  let stack: Stack;
  let receiver: Receiver;

  beforeAll(async () => {
    // A failed attempt waits five minutes for the next: --wait has to give up, and say so.
    stack = await startStack({ HOOKFLOW_RETRY_SCHEDULE: '300' });
    receiver = await new Receiver().listen();
    receiver.behaviour = (req) => ({ status: req.path === '/broken' ? 500 : 200 });
  });
  afterAll(async () => {
    await receiver?.close();
    await stack?.close();
  });

  async function send(input: Partial<SendInput> & { app: string }) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runSend(
      { eventType: 'invoice.paid', payload: { id: 42 }, api: stack.url, token: stack.adminToken, ...input },
      { out: (l) => out.push(l), err: (l) => err.push(l), pollMs: 50 },
    );
    return { code, out, err };
  }

  it('sends, and with --wait prints each endpoint it was delivered to', async () => {
    const appId = await seedApp(stack.services);
    const ep = await seedEndpoint(stack.services, appId, { url: receiver.url() });
    receiver.secrets = [ep.secret];
    const { code, out, err } = await send({ app: appId, wait: true });
    expect(err).toEqual([]);
    expect(out[0]).toMatch(new RegExp(`^sent (msg_\\w+) \\(invoice\\.paid\\) to ${appId}$`));
    const msgId = out[0].split(' ')[1];
    expect(out.slice(1)).toEqual([`✔ ${ep.id} ${receiver.url()}: delivered, HTTP 200 (1 attempt)`]);
    expect(code).toBe(0);
    expect(receiver.received.find((r) => r.id === msgId)).toMatchObject({
      verified: true,
      body: '{"id":42}',
    });
  });

  it('gives up waiting at its bound, with what is known and a clear message', async () => {
    const appId = await seedApp(stack.services);
    const ok = await seedEndpoint(stack.services, appId, { url: receiver.url() });
    const broken = await seedEndpoint(stack.services, appId, { url: receiver.url('/broken') });
    // The bound is generous: both first attempts happen well within it even on a loaded machine.
    const { code, out, err } = await send({ app: appId, wait: true, timeout: 10 });
    expect(code).toBe(1);
    expect(out.slice(1).sort()).toEqual(
      [
        `✔ ${ok.id} ${receiver.url()}: delivered, HTTP 200 (1 attempt)`,
        expect.stringMatching(
          new RegExp(
            `^… ${broken.id} ${receiver.url('/broken')}: pending, HTTP 500 \\(1 attempt\\), next attempt at \\S+Z$`,
          ),
        ),
      ].sort(),
    );
    expect(err).toEqual([
      expect.stringMatching(
        /^gave up waiting after 10 s: Hookflow goes on retrying on its schedule \(see GET \/api\/v1\/app\/.*\/endpoint\)$/,
      ),
    ]);
  });

  it('says when no endpoint took the message', async () => {
    const appId = await seedApp(stack.services);
    const { code, err } = await send({ app: appId, wait: true, timeout: 1 });
    expect(code).toBe(1);
    expect(err).toEqual([
      expect.stringMatching(
        new RegExp(
          `^no endpoint took msg_\\w+ within 1 s: does ${appId} have an enabled endpoint subscribed to invoice\\.paid\\? \\(try: hookflow listen --app ${appId}\\)$`,
        ),
      ),
    ]);
  });

  /** The built CLI: payload on stdin, admin token from the environment, one line for bad input. */
  function runCli(args: string[], stdin: string, env: NodeJS.ProcessEnv) {
    return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const child = execFile(
        process.execPath,
        [cli, 'send', ...args],
        { env: { PATH: process.env.PATH, ...env }, timeout: 60_000 },
        (error, stdout, stderr) =>
          resolve({ code: (error as { code?: number } | null)?.code ?? 0, stdout, stderr }),
      );
      child.stdin!.end(stdin);
    });
  }

  it('as a command: reads the payload from stdin, and refuses bad input in one line', async () => {
    const appId = await seedApp(stack.services);
    const env = {
      HOOKFLOW_URL: stack.url,
      HOOKFLOW_ADMIN_TOKEN: stack.adminToken,
      HOOKFLOW_STATE_DIR: '/nonexistent',
    };
    const ok = await runCli([appId, 'order.created'], '{"from": "stdin"}', env);
    expect(ok).toMatchObject({ code: 0, stderr: '' });
    const msgId = ok.stdout.split(' ')[1];
    const stored = await stack.call('GET', `/api/v1/app/${appId}/msg/${msgId}`);
    expect(stored.body).toMatchObject({ eventType: 'order.created', payload: { from: 'stdin' } });
    // The payload's text is posted as given: a 64-bit integer and an escape arrive unchanged.
    const exact = '{"id": 9007199254740993, "name": "caf\\u00e9"}';
    const big = await runCli([appId, 'order.created', exact], '', env);
    expect(big).toMatchObject({ code: 0, stderr: '' });
    const content = await stack.services.orm.em
      .getConnection()
      .execute('select payload from message_content where msg_id = ?', [big.stdout.split(' ')[1]]);
    expect(content[0].payload).toBe(exact);

    expect(await runCli([appId, 'order.created', '[1]'], '', env)).toMatchObject({
      code: 1,
      stderr: 'hookflow: payload must be a JSON object\n',
    });
    expect(await runCli([appId, 'order.created', '{'], '', env)).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/^hookflow: the payload is not JSON: .*\n$/),
    });
    expect(await runCli([appId, 'x', '{}', '--timeout', '0'], '', env)).toMatchObject({
      code: 1,
      stderr: 'hookflow: --timeout Too small: expected number to be >=1\n',
    });
    expect(
      await runCli([appId, 'x', '{}'], '', { HOOKFLOW_URL: stack.url, HOOKFLOW_STATE_DIR: '/nonexistent' }),
    ).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/^hookflow: an admin token is needed: /),
    });
    expect(await runCli(['app_nope', 'x', '{}'], '', env)).toMatchObject({
      code: 1,
      stderr: 'hookflow send: sending to "app_nope": 404 Application not found\n',
    });
  });
});
