import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { loadConfig, requireReady } from '../src/config';
import { createLogger } from '../src/logger';
import { buildServices, type Services } from '../src/services';
import { startWorker, type RunningWorker } from '../src/worker';
import { startApi, type RunningApi } from '../src/api-server';
import { Receiver } from './harness/receiver';
import { eventually } from './harness/wait';

const secretKey = () => `whsec_${randomBytes(24).toString('base64')}`;

/**
 * A run at LOG_LEVEL=debug with every log line captured (pino's destination, and stdout,
 * stderr and console for anything else): endpoints with secrets, bearer tokens and
 * sensitive headers, messages delivered and failing, secrets rotated, bad requests. Not
 * one secret or token that the run made may appear in the logs.
 */
describe('secrets in logs', () => {
  const captured: string[] = [];
  const secrets = new Map<string, string>();
  let services: Services;
  let worker: RunningWorker;
  let api: RunningApi;
  let receiver: Receiver;
  let adminToken: string;
  const restore: Array<() => void> = [];

  const remember = (what: string, value: string) => {
    expect(value.length).toBeGreaterThanOrEqual(8);
    secrets.set(what, value);
    return value;
  };

  async function call(method: string, path: string, body?: unknown, token: string = adminToken) {
    const res = await fetch(`${api.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk, _enc, done) {
        captured.push(String(chunk));
        done();
      },
    });
    for (const stream of [process.stdout, process.stderr]) {
      const original = stream.write.bind(stream);
      stream.write = ((chunk: unknown, ...rest: unknown[]) => {
        captured.push(String(chunk));
        return (original as (...a: unknown[]) => boolean)(chunk, ...rest);
      }) as typeof stream.write;
      restore.push(() => (stream.write = original as typeof stream.write));
    }
    for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      const spy = jest.spyOn(console, method).mockImplementation((...args: unknown[]) => {
        captured.push(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
      });
      restore.push(() => spy.mockRestore());
    }

    adminToken = remember('admin token', `test_admin_${randomBytes(16).toString('hex')}`);
    const config = requireReady(
      loadConfig({
        ...process.env,
        HOOKFLOW_ADMIN_TOKEN: adminToken,
        HOOKFLOW_SECRET_KEY: remember('secret key', randomBytes(32).toString('base64')),
        HOOKFLOW_ALLOWED_CIDRS: '127.0.0.0/8,::1/128',
        // Fast retries: the failing receiver's attempts happen within the test.
        HOOKFLOW_RETRY_SCHEDULE: '1,1',
        TEMPORAL_TASK_QUEUE: `test-${randomBytes(6).toString('hex')}`,
        LOG_LEVEL: 'debug',
        PORT: '0',
        HOST: '127.0.0.1',
      }),
      ['DATABASE_URL', 'TEMPORAL_ADDRESS', 'HOOKFLOW_ADMIN_TOKEN', 'HOOKFLOW_SECRET_KEY'],
    );
    services = await buildServices(config, createLogger('debug', 'hookflow', sink));
    worker = await startWorker(services, { bundle: { codePath: process.env.HOOKFLOW_TEST_BUNDLE! } });
    api = await startApi(services);
    receiver = await new Receiver().listen();
  });
  afterAll(async () => {
    await api?.close();
    await worker?.shutdown();
    await services?.close();
    await receiver?.close();
    for (const r of restore) r();
  });

  it('logs none of the secrets, tokens and sensitive header values it was given or made', async () => {
    // The failing endpoint answers with the request's headers: a log of the response would leak them.
    receiver.behaviour = (req) =>
      req.path.startsWith('/failing')
        ? { status: 500, body: JSON.stringify(req.headers) }
        : { status: 200, body: JSON.stringify(req.headers) };

    const app = await call('POST', '/api/v1/app', { name: 'secretive' });
    expect(app.status).toBe(201);
    const appId = app.body.id;
    const access = await call('POST', `/api/v1/auth/app-portal-access/${appId}`, {});
    const appToken = remember('app token', access.body.token);

    const endpoints: string[] = [];
    for (const path of ['/ok', '/failing']) {
      const ep = await call('POST', `/api/v1/app/${appId}/endpoint`, {
        url: receiver.url(path),
        secret: remember(`endpoint secret ${path}`, secretKey()),
        bearerToken: remember(`bearer token ${path}`, `bt_${randomBytes(16).toString('hex')}`),
        headers: {
          'x-api-key': remember(`x-api-key ${path}`, `key_${randomBytes(16).toString('hex')}`),
          'x-plain': 'not-a-secret',
        },
      });
      expect(ep.status).toBe(201);
      endpoints.push(ep.body.id);
      const headers = await call('PATCH', `/api/v1/app/${appId}/endpoint/${ep.body.id}/headers`, {
        headers: {
          authorization: remember(
            `authorization header ${path}`,
            `Basic ${randomBytes(16).toString('base64')}`,
          ),
        },
      });
      expect(headers.status).toBe(204);
    }
    receiver.secrets = [secrets.get('endpoint secret /ok')!, secrets.get('endpoint secret /failing')!];

    // Through the app token too: a token must not be logged whichever kind it is.
    const sent: any[] = [];
    for (let i = 0; i < 3; i++) {
      const msg = await call(
        'POST',
        `/api/v1/app/${appId}/msg`,
        { eventType: 'secret.test', payload: { i } },
        appToken,
      );
      expect(msg.status).toBe(202);
      sent.push(msg.body.id);
    }
    await eventually(
      () => sent.every((id) => receiver.received.filter((r) => r.id === id).length >= 2),
      'every message at both endpoints',
    );
    // The failing endpoint's attempts ran out (two retries) and were recorded.
    await eventually(async () => {
      const rows = await services.orm.em
        .getConnection()
        .execute(`select count(*)::int n from deliveries where endpoint_id = ? and state = 'failed'`, [
          endpoints[1],
        ]);
      return rows[0].n === sent.length;
    }, 'the failing deliveries to give up');

    // Rotate with a given key and with a generated one; read the secret back.
    for (const ep of endpoints) {
      const given = await call('POST', `/api/v1/app/${appId}/endpoint/${ep}/secret/rotate`, {
        key: remember(`rotated ${ep}`, secretKey()),
      });
      expect(given.status).toBe(200);
      expect((await call('POST', `/api/v1/app/${appId}/endpoint/${ep}/secret/rotate`, {})).status).toBe(200);
      const current = await call('GET', `/api/v1/app/${appId}/endpoint/${ep}/secret`);
      remember(`generated secret ${ep}`, current.body.key);
    }

    // Errors: bad tokens, a token in a malformed request, bad bodies carrying secrets.
    const wrong = remember('wrong token', `wrong_${randomBytes(16).toString('hex')}`);
    expect((await call('GET', '/api/v1/app', undefined, wrong)).status).toBe(401);
    expect((await call('POST', `/api/v1/app/${appId}/msg`, '{"broken', appToken)).status).toBe(400);
    const badSecret = await call('POST', `/api/v1/app/${appId}/endpoint`, {
      url: receiver.url('/x'),
      secret: remember('refused secret', `whsec_${randomBytes(4).toString('hex')}!!`),
      bearerToken: remember('refused bearer token', `bad\r\n${randomBytes(12).toString('hex')}`),
    });
    expect(badSecret.status).toBe(422);
    const expired = remember('expired app token', await services.tokens.issueAppToken(appId, -60));
    expect((await call('GET', `/api/v1/app/${appId}`, undefined, expired)).status).toBe(401);

    // And one more message after the rotation, so the new secrets were used to sign.
    const last = await call('POST', `/api/v1/app/${appId}/msg`, { eventType: 'secret.test', payload: {} });
    await eventually(
      () => receiver.received.some((r) => r.id === last.body.id && r.path === '/ok'),
      'the last delivery',
    );
    await services.dispatcher.idle();

    const logs = captured.join('\n');
    // The run did log (debug lines of its deliveries), so an empty capture cannot pass.
    expect(logs).toMatch(/attempt (succeeded|failed)/);
    const leaked = [...secrets].filter(([, value]) => {
      const forms = [
        value,
        value.replace(/^whsec_/, ''),
        value.replace(/^Basic /, ''),
        JSON.stringify(value).slice(1, -1),
      ];
      return forms.some((f) => f.length >= 8 && logs.includes(f));
    });
    expect(leaked.map(([what]) => what)).toEqual([]);
  });
});
