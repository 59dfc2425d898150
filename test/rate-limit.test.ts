import { startStack, type Stack } from './harness/stack';
import { seedApp } from './harness/seed';

const LIMIT = 2;

/** HOOKFLOW_API_RATE_LIMIT: a token bucket per token, 429 with Retry-After, health exempt. */
describe('API rate limit per token', () => {
  let stack: Stack;
  let appId: string;
  beforeAll(async () => {
    stack = await startStack({ HOOKFLOW_API_RATE_LIMIT: String(LIMIT) }, { worker: false });
    appId = await seedApp(stack.services);
  });
  afterAll(async () => {
    await stack?.close();
  });

  const burst = (n: number, token: string | null, path = '/api/v1/app?limit=1') =>
    Promise.all(Array.from({ length: n }, () => stack.call('GET', path, undefined, token)));

  it('answers 429 rate_limited with Retry-After past the limit, and does not limit another token', async () => {
    const results = await burst(LIMIT * 10, stack.adminToken);
    const limited = results.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(results.filter((r) => r.status === 200).length).toBeGreaterThan(0);
    expect(results.every((r) => r.status === 200 || r.status === 429)).toBe(true);
    for (const r of limited) {
      expect(r.body).toEqual({ code: 'rate_limited', detail: expect.stringMatching(/per second/) });
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    // Right after the admin token ran dry, an app token still has its own full bucket.
    const appToken = await stack.services.tokens.issueAppToken(appId);
    expect((await stack.call('GET', `/api/v1/app/${appId}`, undefined, appToken)).status).toBe(200);
  });

  it('does not limit health checks, and refuses a bad token before counting it', async () => {
    const health = await burst(LIMIT * 10, null, '/api/v1/health');
    expect(health.map((r) => r.status)).toEqual(health.map(() => 204));
    const bad = await burst(LIMIT * 5, 'not-a-token');
    expect(new Set(bad.map((r) => r.status))).toEqual(new Set([401]));
  });
});

describe('API rate limit off by default', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({}, { worker: false });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('never answers 429 when HOOKFLOW_API_RATE_LIMIT is unset', async () => {
    const results = await Promise.all(
      Array.from({ length: 30 }, () => stack.call('GET', '/api/v1/app?limit=1')),
    );
    expect(results.map((r) => r.status)).toEqual(results.map(() => 200));
  });
});
