import { SafeHttpClient, BlockedAddressError, isAllowedAddress, parseCidrs } from '../activities/http-client';
import { Receiver } from './harness/receiver';
import { startStack } from './harness/stack';
import { seedApp, seedEndpoint } from './harness/seed';

/**
 * The private-network block, proved with loopback targets and the allowlist off: the
 * guard must refuse every spelling of 127.0.0.1 before a connection is made. Every target
 * is a loopback receiver, so nothing leaves the machine even if the guard failed.
 */
describe('SSRF guard', () => {
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await new Receiver().listen();
  });
  afterAll(() => receiver.close());

  it('classifies addresses', () => {
    const none = parseCidrs([]);
    for (const blocked of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '224.0.0.1',
      '::1',
      'fe80::1',
      'fc00::1',
      '::ffff:127.0.0.1',
      '255.255.255.255',
    ]) {
      expect([blocked, isAllowedAddress(blocked, none)]).toEqual([blocked, false]);
    }
    for (const open of ['93.184.216.34', '2606:4700:4700::1111', '8.8.8.8'])
      expect(isAllowedAddress(open, none)).toBe(true);
    expect(isAllowedAddress('127.0.0.1', parseCidrs(['127.0.0.0/8']))).toBe(true);
    expect(isAllowedAddress('::1', parseCidrs(['127.0.0.0/8']))).toBe(false);
  });

  it('refuses every spelling of loopback, literal or resolved, before connecting', async () => {
    const client = new SafeHttpClient({ timeoutMs: 2000, allowedCidrs: [] });
    const p = receiver.port;
    const targets = [
      `http://127.0.0.1:${p}/`,
      `http://localhost:${p}/`,
      `http://[::1]:${p}/`,
      `http://[::ffff:127.0.0.1]:${p}/`,
      `http://2130706433:${p}/`, // decimal
      `http://0x7f.0.0.1:${p}/`, // hex
      `http://0177.0.0.1:${p}/`, // octal
      `http://127.1:${p}/`,
    ];
    try {
      for (const url of targets) {
        const err = await client.send(url, { method: 'POST', headers: {}, body: '{}' }).catch((e) => e);
        const cause = err?.cause ?? err;
        expect([url, cause instanceof BlockedAddressError || err instanceof BlockedAddressError]).toEqual([
          url,
          true,
        ]);
      }
      expect(receiver.received).toHaveLength(0);
    } finally {
      await client.close();
    }
  });

  it('connects to an allowed range through the checked address', async () => {
    const client = new SafeHttpClient({ timeoutMs: 2000, allowedCidrs: ['127.0.0.0/8'] });
    try {
      const res = await client.send(`http://localhost:${receiver.port}/ok`, {
        method: 'POST',
        headers: {},
        body: '{}',
      });
      expect(res.statusCode).toBe(200);
    } finally {
      await client.close();
    }
  });

  it('records a blocked delivery as a failed attempt, and nothing reaches the receiver', async () => {
    receiver.received.length = 0;
    const stack = await startStack({ HOOKFLOW_ALLOWED_CIDRS: '', HOOKFLOW_RETRY_SCHEDULE: '1' });
    try {
      const appId = await seedApp(stack.services);
      const ep = await seedEndpoint(stack.services, appId, {
        url: `http://localhost:${receiver.port}/private`,
      });
      const res = await stack.call('POST', `/api/v1/app/${appId}/msg`, { eventType: 'a.b', payload: {} });
      const handle = stack.services.temporal.workflow.getHandle(`deliver-${res.body.id}-${ep.id}`);
      const { eventually } = await import('./harness/wait');
      await eventually(() => handle.describe().then(() => true), 'the delivery to start');
      expect(await handle.result()).toEqual({ status: 'failed', attempts: 2 });
      const rows = await stack.services.orm.em
        .getConnection()
        .execute('select error_kind, response, response_status_code from attempts where msg_id = ?', [
          res.body.id,
        ]);
      expect(rows).toHaveLength(2);
      expect(rows[0].error_kind).toBe('blocked');
      expect(rows[0].response).toMatch(/127\.0\.0\.1|::1/);
      expect(receiver.received).toHaveLength(0);
    } finally {
      await stack.close();
    }
  });
});
