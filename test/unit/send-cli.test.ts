import { formatOutcome, parsePayload, sendInput } from '../../src/cli/send';

/** `hookflow send`: its input rules and how it words outcomes. */
describe('hookflow send: pure parts', () => {
  it('takes the payload as JSON text, nothing as {}, and says what is wrong otherwise', () => {
    expect(parsePayload('{"id": 42}')).toEqual({ id: 42 });
    expect(parsePayload(undefined)).toEqual({});
    expect(parsePayload('  \n')).toEqual({});
    expect(() => parsePayload('{id: 42}')).toThrow(/^the payload is not JSON: /);
    const notObject = sendInput.safeParse({
      app: 'a',
      eventType: 'x',
      payload: [1],
      api: 'http://x',
      token: 't',
    });
    expect(notObject.error?.issues[0]).toMatchObject({ path: ['payload'], message: 'must be a JSON object' });
    const badType = sendInput.safeParse({
      app: 'a',
      eventType: 'a b',
      payload: {},
      api: 'http://x',
      token: 't',
    });
    expect(badType.error?.issues[0].path).toEqual(['eventType']);
  });

  it("words each endpoint's outcome from its destination and its attempts (newest first)", () => {
    const dest = { id: 'ep_1', url: 'http://h/', nextAttempt: null };
    const attempts = [
      { endpointId: 'ep_1', responseStatusCode: 500 },
      { endpointId: 'ep_2', responseStatusCode: 200 },
      { endpointId: 'ep_1', responseStatusCode: 0 },
    ];
    expect(formatOutcome({ ...dest, statusText: 'fail' }, attempts)).toBe(
      '✘ ep_1 http://h/: failed, HTTP 500 (2 attempts, no more retries)',
    );
    expect(formatOutcome({ ...dest, id: 'ep_2', statusText: 'success' }, attempts)).toBe(
      '✔ ep_2 http://h/: delivered, HTTP 200 (1 attempt)',
    );
    expect(
      formatOutcome(
        { ...dest, statusText: 'pending', nextAttempt: '2026-01-01T00:05:00.000Z' },
        attempts.slice(2),
      ),
    ).toBe('… ep_1 http://h/: pending, no response (1 attempt), next attempt at 2026-01-01T00:05:00.000Z');
    expect(formatOutcome({ ...dest, statusText: 'pending' }, [])).toBe(
      '… ep_1 http://h/: pending, no attempt yet (0 attempts)',
    );
  });
});
