import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { adminToken, defaultApiUrl, describeError } from '../../src/cli/api-client';

/** How the command-line tools find the API and the admin token. */
describe('api-client', () => {
  const previous = process.env.HOOKFLOW_STATE_DIR;
  afterEach(() => {
    if (previous === undefined) delete process.env.HOOKFLOW_STATE_DIR;
    else process.env.HOOKFLOW_STATE_DIR = previous;
  });

  it('takes the admin token from the flag, else the environment, else what npm start kept', () => {
    const state = mkdtempSync(path.join(os.tmpdir(), 'hookflow-token-'));
    process.env.HOOKFLOW_STATE_DIR = state;
    expect(adminToken(undefined, {})).toBeUndefined();
    writeFileSync(path.join(state, 'admin-token'), 'hf_admin_kept\n');
    expect(adminToken(undefined, {})).toBe('hf_admin_kept');
    expect(adminToken(undefined, { HOOKFLOW_ADMIN_TOKEN: 'from_env' })).toBe('from_env');
    expect(adminToken('from_flag', { HOOKFLOW_ADMIN_TOKEN: 'from_env' })).toBe('from_flag');
  });

  it('takes the API from HOOKFLOW_URL, else the local npm start', () => {
    expect(defaultApiUrl({})).toBe('http://localhost:8080');
    expect(defaultApiUrl({ HOOKFLOW_URL: 'https://hooks.example.com' })).toBe('https://hooks.example.com');
  });

  it("words Svix's error shapes in one line", () => {
    expect(describeError(404, { code: 'not_found', detail: 'Application not found' })).toBe(
      '404 Application not found',
    );
    expect(
      describeError(422, {
        detail: [{ loc: ['body', 'since'], msg: 'must be before until', type: 'value_error' }],
      }),
    ).toBe('since: must be before until');
  });
});
