import { classify, decide, parseRetryAfter, waitFor, MISCONFIGURED } from '../../src/domain/outcome';
import { decisionFor, needsLifecycle } from '../../workflows/attempt-outcome';

describe('classify', () => {
  it.each([
    [200, 'success'],
    [204, 'success'],
    [299, 'success'],
    [301, 'failure'],
    [304, 'failure'],
    [400, 'failure'],
    [410, 'gone'],
    [429, 'throttled'],
    [500, 'failure'],
    [503, 'failure'],
    [0, 'failure'],
  ])('%i is %s', (code, outcome) => expect(classify(code)).toBe(outcome));
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-12-01T10:00:00Z');
  it.each([
    [undefined, null],
    ['', null],
    ['120', 120],
    [' 7 ', 7],
    [['30', '60'], 30],
    ['Tue, 01 Dec 2026 10:01:30 GMT', 90],
    ['Tue, 01 Dec 2026 09:00:00 GMT', 0],
    ['soon', null],
    ['-5', null],
  ])('%p → %p', (value, seconds) => expect(parseRetryAfter(value as never, now)).toBe(seconds));
});

describe('waitFor', () => {
  it('is null after the last attempt, whatever the receiver asked', () => {
    expect(waitFor('failure', null, 10)).toBeNull();
    expect(waitFor('throttled', null, null)).toBeNull();
  });
  it('waits the scheduled delay after a failure', () => expect(waitFor('failure', 5, null)).toBe(5));
  it('waits at least a minute after a 429 or a timeout', () => {
    expect(waitFor('throttled', 5, null)).toBe(60);
    expect(waitFor('throttled', 300, null)).toBe(300);
  });
  it('honours Retry-After within [delay, 2×delay]', () => {
    expect(waitFor('failure', 10, 15)).toBe(15);
    expect(waitFor('failure', 10, 100)).toBe(20);
    expect(waitFor('failure', 10, 1)).toBe(10);
    expect(waitFor('throttled', 5, 90)).toBe(90);
    expect(waitFor('throttled', 5, 500)).toBe(120);
  });
  it('rounds to milliseconds', () => expect(waitFor('failure', 1.23456, null)).toBe(1.235));
});

describe('decide', () => {
  it('a 2xx ends the delivery as a success', () =>
    expect(decide({ statusCode: 201, retryAfterSeconds: 500 }, 5)).toEqual({
      outcome: 'success',
      waitSeconds: null,
      state: 'success',
    }));
  it('a 410 ends it as failed and disables', () =>
    expect(decide({ statusCode: 410, retryAfterSeconds: null }, 5)).toEqual({
      outcome: 'gone',
      waitSeconds: null,
      state: 'failed',
    }));
  it('a 5xx waits for the next attempt, or fails after the last', () => {
    expect(decide({ statusCode: 503, retryAfterSeconds: null }, 5)).toEqual({
      outcome: 'failure',
      waitSeconds: 5,
      state: 'pending',
    });
    expect(decide({ statusCode: 503, retryAfterSeconds: null }, null).state).toBe('failed');
  });
  it('a 429 with Retry-After', () =>
    expect(decide({ statusCode: 429, retryAfterSeconds: 100 }, 5)).toEqual({
      outcome: 'throttled',
      waitSeconds: 100,
      state: 'pending',
    }));
  it('a timeout is throttled, other network errors fail', () => {
    expect(decide({ errorKind: 'timeout' }, 5)).toMatchObject({ outcome: 'throttled', waitSeconds: 60 });
    expect(decide({ errorKind: 'ECONNREFUSED' }, 5)).toMatchObject({ outcome: 'failure', waitSeconds: 5 });
    expect(decide({ errorKind: 'blocked' }, null)).toMatchObject({ outcome: 'failure', state: 'failed' });
  });
});

describe('decisionFor and needsLifecycle', () => {
  const at = '2026-12-01T10:00:00.000Z';
  it('a configuration error ends the delivery without a retry', () =>
    expect(decisionFor({ kind: 'misconfigured', url: 'https://x', error: 'e', at }, 5)).toBe(MISCONFIGURED));
  it('reads a send result', () =>
    expect(
      decisionFor(
        {
          kind: 'sent',
          url: 'https://x',
          statusCode: 429,
          retryAfterSeconds: null,
          response: '',
          responseTruncated: false,
          durationMs: 1,
          at,
        },
        5,
      ),
    ).toMatchObject({ outcome: 'throttled', waitSeconds: 60 }));
  it('a plain success has no lifecycle step; a success that ends a failing streak has', () => {
    const success = decide({ statusCode: 200, retryAfterSeconds: null }, 5);
    expect(needsLifecycle(success, false)).toBe(false);
    expect(needsLifecycle(success, true)).toBe(true);
    expect(needsLifecycle(decide({ statusCode: 500, retryAfterSeconds: null }, 5), false)).toBe(true);
  });
});
