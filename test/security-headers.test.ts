import { startStack, type Stack } from './harness/stack';

/** Security headers: defaults on every response, pages (/docs, /portal) with their own CSP. */
describe('security headers', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({}, { worker: false });
  });
  afterAll(async () => {
    await stack?.close();
  });

  const get = (path: string, token: string | null = null) =>
    fetch(`${stack.url}${path}`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
      redirect: 'manual',
    });

  it('puts nosniff, no-referrer and a deny-all CSP on API JSON answers, errors included', async () => {
    for (const [path, token, status] of [
      ['/api/v1/app', stack.adminToken, 200],
      ['/api/v1/app/app_nope', stack.adminToken, 404],
      ['/api/v1/app', null, 401],
      ['/api/v1/openapi.json', null, 200],
      ['/api/v1/health/ping', null, 200],
      ['/nowhere', null, 404],
    ] as const) {
      const res = await get(path, token);
      expect([path, res.status]).toEqual([path, status]);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
      expect(res.headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'/);
      expect(res.headers.get('x-powered-by')).toBeNull();
      // Plain http here: HSTS only makes sense over TLS.
      expect(res.headers.get('strict-transport-security')).toBeNull();
    }
  });

  it('lets /docs keep its own CSP (no scripts) with the defaults', async () => {
    const res = await get('/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/default-src 'none'/);
    expect(csp).toMatch(/style-src 'sha256-/);
    expect(csp).not.toMatch(/script-src/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
  });

  it('lets /portal keep its own CSP (self only, framable) with the defaults', async () => {
    // 200 when the portal is built, 503 when not: the headers are the same either way.
    const res = await get('/portal/');
    expect([200, 503]).toContain(res.status);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/default-src 'self'/);
    expect(csp).toMatch(/script-src 'self'/);
    expect(csp).toMatch(/frame-ancestors /);
    expect(csp).not.toMatch(/frame-ancestors 'none'/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('x-frame-options')).toBeNull();
  });
});
