import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { loadConfig, oneProcessDefaults, requireReady } from '../src/config';

describe('configuration', () => {
  it('applies the defaults of the spec', () => {
    const c = loadConfig({});
    expect(c.PORT).toBe(8080);
    expect(c.TEMPORAL_NAMESPACE).toBe('default');
    expect(c.TEMPORAL_TASK_QUEUE).toBe('hookflow');
    expect(c.HOOKFLOW_RETRY_SCHEDULE).toEqual([5, 300, 1800, 7200, 18000, 36000, 36000]);
    expect(c.HOOKFLOW_HTTP_TIMEOUT_MS).toBe(15000);
    expect(c.HOOKFLOW_ALLOWED_CIDRS).toEqual([]);
    expect(c.HOOKFLOW_HTTPS_ONLY).toBe(false);
    expect(c.HOOKFLOW_MAX_RESPONSE_BYTES).toBe(20_000);
    expect(c.HOOKFLOW_RETENTION_DAYS).toBe(90);
    expect(c.HOOKFLOW_WORKFLOW_RUNNER).toBe('thread');
  });

  it('keeps HOOKFLOW_WORKFLOW_GUARDS as a deprecated alias of HOOKFLOW_WORKFLOW_RUNNER', () => {
    expect(loadConfig({ HOOKFLOW_WORKFLOW_RUNNER: 'in-process' }).HOOKFLOW_WORKFLOW_RUNNER).toBe(
      'in-process',
    );
    expect(loadConfig({ HOOKFLOW_WORKFLOW_GUARDS: 'false' }).HOOKFLOW_WORKFLOW_RUNNER).toBe('in-process');
    expect(loadConfig({ HOOKFLOW_WORKFLOW_GUARDS: 'true' }).HOOKFLOW_WORKFLOW_RUNNER).toBe('thread');
    expect(
      loadConfig({ HOOKFLOW_WORKFLOW_GUARDS: 'true', HOOKFLOW_WORKFLOW_RUNNER: 'thread' })
        .HOOKFLOW_WORKFLOW_RUNNER,
    ).toBe('thread');
    expect(() =>
      loadConfig({ HOOKFLOW_WORKFLOW_GUARDS: 'false', HOOKFLOW_WORKFLOW_RUNNER: 'thread' }),
    ).toThrow(
      'Invalid configuration: HOOKFLOW_WORKFLOW_GUARDS: (deprecated) says in-process where HOOKFLOW_WORKFLOW_RUNNER says thread: unset it',
    );
  });

  it.each([
    ['PORT', 'eighty', /PORT/],
    ['HOOKFLOW_RETRY_SCHEDULE', '5,soon,10', /HOOKFLOW_RETRY_SCHEDULE: "soon"/],
    ['HOOKFLOW_ALLOWED_CIDRS', '10.0.0.0/99', /HOOKFLOW_ALLOWED_CIDRS: "10.0.0.0\/99"/],
    ['DATABASE_URL', 'mysql://x', /DATABASE_URL/],
    ['TEMPORAL_ADDRESS', 'no-port', /TEMPORAL_ADDRESS: must be host:port/],
    ['HOOKFLOW_HTTPS_ONLY', 'maybe', /HOOKFLOW_HTTPS_ONLY: must be true or false/],
    ['HOOKFLOW_WORKFLOW_RUNNER', 'debug', /HOOKFLOW_WORKFLOW_RUNNER: must be thread or in-process/],
    ['HOOKFLOW_ADMIN_TOKEN', 'short', /HOOKFLOW_ADMIN_TOKEN: must be at least 16/],
    ['HOOKFLOW_MAX_RESPONSE_BYTES', '0', /HOOKFLOW_MAX_RESPONSE_BYTES/],
    ['HOOKFLOW_MAX_RESPONSE_BYTES', 'lots', /HOOKFLOW_MAX_RESPONSE_BYTES/],
  ])('refuses %s=%s with a message naming it', (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(message);
  });

  it('names what a production process is missing', () => {
    expect(() => requireReady(loadConfig({}), ['DATABASE_URL', 'HOOKFLOW_SECRET_KEY'])).toThrow(
      'Missing configuration: DATABASE_URL, HOOKFLOW_SECRET_KEY must be set',
    );
  });

  it('stops a production process with one clear line, not a stack trace', () => {
    const cli = path.join(__dirname, '..', 'dist', 'src', 'cli', 'index.js');
    let stderr = '';
    try {
      execFileSync(process.execPath, [cli, 'api'], {
        env: { PATH: process.env.PATH, PORT: 'x' },
        stdio: 'pipe',
      });
    } catch (err) {
      stderr = String((err as { stderr: Buffer }).stderr);
    }
    expect(stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^hookflow: Invalid configuration: PORT: /),
    ]);
  });
});

describe('oneProcessDefaults', () => {
  it('doubles the PostgreSQL pool for the API and worker in one process, unless it is set', () => {
    const both = { api: true, worker: true };
    expect(loadConfig(oneProcessDefaults(both, {})).DATABASE_POOL_MAX).toBe(20);
    expect(loadConfig(oneProcessDefaults(both, { DATABASE_POOL_MAX: '7' })).DATABASE_POOL_MAX).toBe(7);
    expect(loadConfig(oneProcessDefaults({ api: true, worker: false }, {})).DATABASE_POOL_MAX).toBe(10);
  });
});
