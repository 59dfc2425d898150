import http, { type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp, messageCreateSteps } from '../api/app';
import { withMessageCreateFastPath } from '../api/fast-path';
import { startStack, type Stack } from './harness/stack';
import { seedApp } from './harness/seed';

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** The headers an answer is judged by; `date` and `connection` say nothing about the API. */
const COMPARED = [
  'content-type',
  'content-length',
  'x-content-type-options',
  'referrer-policy',
  'content-security-policy',
  'www-authenticate',
  'retry-after',
  'idempotent-replayed',
];

/** Message ids and times differ between two creations; everything else must not. */
const normalized = (body: string) =>
  body.replace(/"id":"msg_\w+"/g, '"id":"msg_…"').replace(/"timestamp":"[^"]+"/g, '"timestamp":"…"');

/**
 * Message create has a fast path (api/fast-path.ts) beside Express. Each request below is
 * sent both to the API as `hookflow api` serves it and to the Express app alone: the
 * answers must be the same, status, headers and body, and the fast path must have
 * answered them itself. Any difference in the steps' order or in what they set shows here.
 */
describe('message create: fast path and Express answer alike', () => {
  let stack: Stack;
  const servers: http.Server[] = [];
  let fast: string;
  let express: string;
  /** Requests the fast path handed to Express. */
  let handedOn = 0;
  let appId: string;
  let appToken: string;
  let otherAppToken: string;

  async function serve(listener: RequestListener): Promise<string> {
    const server = http.createServer(listener);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  beforeAll(async () => {
    stack = await startStack({}, { worker: false });
    const deps = { ...stack.services, config: stack.config };
    const steps = messageCreateSteps(deps);
    const app = createApp(deps, steps);
    fast = await serve(
      withMessageCreateFastPath((req, res) => {
        handedOn++;
        app(req, res);
      }, steps),
    );
    express = await serve(createApp(deps));
    appId = (await stack.call('POST', '/api/v1/app', { name: 'Fast path', uid: 'fast-path' })).body.id;
    appToken = await stack.services.tokens.issueAppToken(appId);
    otherAppToken = await stack.services.tokens.issueAppToken(await seedApp(stack.services));
  });
  afterAll(async () => {
    for (const s of servers) s.closeAllConnections();
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    await stack?.close();
  });

  async function send(
    base: string,
    path: string,
    body: string | Buffer | undefined,
    headers: Record<string, string>,
  ): Promise<Answer> {
    const res = await fetch(`${base}${path}`, { method: 'POST', headers, body });
    const kept: Record<string, string> = {};
    for (const name of COMPARED) {
      const value = res.headers.get(name);
      if (value !== null) kept[name] = name === 'content-length' ? 'present' : value;
    }
    return { status: res.status, headers: kept, body: normalized(await res.text()) };
  }

  /** The same request to both; returns the fast path's answer once they are shown equal. */
  async function both(
    path: string,
    body: string | Buffer | undefined,
    headers: Record<string, string> = {},
    opts: { handedOn?: boolean } = {},
  ): Promise<Answer> {
    const h = { authorization: `Bearer ${stack.adminToken}`, 'content-type': 'application/json', ...headers };
    for (const [k, v] of Object.entries(h)) if (v === '') delete h[k as keyof typeof h];
    const before = handedOn;
    const a = await send(fast, path, body, h);
    const b = await send(express, path, body, h);
    expect(a).toEqual(b);
    expect(handedOn - before).toBe(opts.handedOn ? 1 : 0);
    return a;
  }

  /** A message body as text: the payload's 64-bit integer is beyond what a JS number holds. */
  const msg = (extra: Record<string, unknown> = {}) =>
    JSON.stringify({ eventType: 'fast.path', payload: 0, ...extra }).replace(
      '"payload":0',
      '"payload":{"id":9007199254740993}',
    );

  it('answers a message the same, payload text included', async () => {
    const a = await both(`/api/v1/app/${appId}/msg`, msg());
    expect(a.status).toBe(202);
    expect(a.body).toContain('"payload":{"id":9007199254740993}');
    expect(a.headers['content-security-policy']).toContain("default-src 'none'");
    expect((await both(`/api/v1/app/fast-path/msg?with_content=false`, msg())).body).toContain(
      '"payload":{}',
    );
    expect(
      (await both(`/api/v1/app/${appId}/msg`, msg(), { authorization: `Bearer ${appToken}` })).status,
    ).toBe(202);
  });

  it('refuses bad requests with the same status and body', async () => {
    const path = `/api/v1/app/${appId}/msg`;
    const cases: Array<[number, string | Buffer | undefined, Record<string, string>]> = [
      [400, '{"eventType": ', {}],
      // The body is read before the token is checked, as Express's steps are ordered.
      [400, '{"eventType": ', { authorization: '' }],
      [413, `{"eventType":"a","payload":{"x":"${'x'.repeat(1024 * 1024)}"}}`, {}],
      [415, msg(), { 'content-type': 'application/json; charset=latin1' }],
      [401, msg(), { authorization: '' }],
      [401, msg(), { authorization: 'Bearer nope' }],
      [422, JSON.stringify({ payload: {} }), {}],
      [422, JSON.stringify({ eventType: 'a\u0000b', payload: {} }), {}],
      [422, msg(), { 'content-type': 'text/plain' }],
      [422, undefined, {}],
      [422, msg(), { 'idempotency-key': 'has space' }],
      // Valid JSON once decoded (body-parser replaces the byte), but not UTF-8: no exact text to keep.
      [
        400,
        Buffer.concat([
          Buffer.from('{"eventType":"a","payload":{"x":"'),
          Buffer.from([0xff]),
          Buffer.from('"}}'),
        ]),
        {},
      ],
    ];
    for (const [status, body, headers] of cases)
      expect((await both(path, body, headers)).status).toBe(status);
    expect((await both(`${path}?with_content=maybe`, msg())).status).toBe(422);
    expect((await both('/api/v1/app/app_unknown/msg', msg())).status).toBe(404);
    expect((await both(path, msg(), { authorization: `Bearer ${otherAppToken}` })).status).toBe(404);
  });

  it('answers a duplicate eventId and a reused idempotency key the same', async () => {
    const path = `/api/v1/app/${appId}/msg`;
    expect((await send(fast, path, msg({ eventId: 'evt-1' }), admin())).status).toBe(202);
    expect((await both(path, msg({ eventId: 'evt-1' }))).status).toBe(409);

    const key = { 'idempotency-key': 'fast-path-key' };
    const first = await send(fast, path, msg(), { ...admin(), ...key });
    expect(first.status).toBe(202);
    const replay = await both(path, msg(), key);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toBe(first.body);
    expect((await both(path, msg({ tags: ['changed'] }), key)).status).toBe(422);
  });

  it('creates an application named in the body the same way', async () => {
    const a = await both(`/api/v1/app/made-on-the-fly/msg`, msg({ application: { name: 'On the fly' } }));
    expect(a.status).toBe(202);
  });

  it('hands other spellings of the path to Express, which answers them', async () => {
    const escaped = await both(`/api/v1/app/fast%2Dpath/msg`, msg(), {}, { handedOn: true });
    expect(escaped.status).toBe(202);
    expect((await both(`/api/v1/app/${appId}/msg/`, msg(), {}, { handedOn: true })).status).toBe(202);
  });

  const admin = () => ({ authorization: `Bearer ${stack.adminToken}`, 'content-type': 'application/json' });
});
