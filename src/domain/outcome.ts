/**
 * What one attempt came to and what follows from it: the single rule shared by the
 * DeliverMessage workflow (which owns the schedule) and the attempt's activities.
 * No imports, no clock, no I/O: it runs inside the workflow sandbox and in unit tests.
 */

export type AttemptOutcome =
  | 'success'
  | 'failure' // retry on schedule
  | 'throttled' // 429 or timeout: wait at least a minute
  | 'gone' // 410: the endpoint is disabled
  | 'misconfigured' // our side cannot build the request (secret, template): stop, never blame the endpoint
  | 'cancelled'; // endpoint disabled or deleted, or message gone: stop quietly

/** What the receiver did, as the send step reports it. */
export type Response =
  | { statusCode: number; retryAfterSeconds: number | null }
  | { errorKind: 'timeout' | 'blocked' | 'network' | string };

export interface Decision {
  outcome: AttemptOutcome;
  /** Seconds until the next attempt; null when none will follow. */
  waitSeconds: number | null;
  /** The delivery's state after this attempt. */
  state: 'success' | 'pending' | 'failed';
}

export const MIN_THROTTLED_WAIT_SECONDS = 60;

export function classify(statusCode: number): AttemptOutcome {
  if (statusCode >= 200 && statusCode < 300) return 'success';
  if (statusCode === 410) return 'gone';
  if (statusCode === 429) return 'throttled';
  return 'failure';
}

/** `Retry-After` as seconds from now: delta-seconds or an HTTP date; anything else is ignored. */
export function parseRetryAfter(value: string | string[] | undefined, now: number): number | null {
  const v = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!v) return null;
  if (/^\d+$/.test(v)) return Number(v);
  // HTTP dates always name a day or month; Date.parse would read "-5" as a year.
  const at = /[a-z]/i.test(v) ? Date.parse(v) : NaN;
  return Number.isNaN(at) ? null : Math.max(0, (at - now) / 1000);
}

/** 429 and timeouts wait at least a minute; Retry-After is honoured within [delay, 2×delay]. */
export function waitFor(
  outcome: AttemptOutcome,
  base: number | null,
  retryAfter: number | null,
): number | null {
  if (base === null) return null;
  let delay = outcome === 'throttled' ? Math.max(base, MIN_THROTTLED_WAIT_SECONDS) : base;
  if (retryAfter !== null && Number.isFinite(retryAfter))
    delay = Math.min(Math.max(retryAfter, delay), 2 * delay);
  return Math.round(delay * 1000) / 1000;
}

/**
 * The outcome of an attempt that reached the network (or tried to), given the jittered delay
 * the schedule has next (null after the last attempt).
 */
export function decide(response: Response, nextDelaySeconds: number | null): Decision {
  let outcome: AttemptOutcome;
  let retryAfter: number | null = null;
  if ('statusCode' in response) {
    outcome = classify(response.statusCode);
    retryAfter = response.retryAfterSeconds;
  } else outcome = response.errorKind === 'timeout' ? 'throttled' : 'failure';
  if (outcome === 'success') return { outcome, waitSeconds: null, state: 'success' };
  if (outcome === 'gone') return { outcome, waitSeconds: null, state: 'failed' };
  const waitSeconds = waitFor(outcome, nextDelaySeconds, retryAfter);
  return { outcome, waitSeconds, state: waitSeconds === null ? 'failed' : 'pending' };
}

/** A configuration error of ours ends the delivery at once; the endpoint is not to blame. */
export const MISCONFIGURED: Decision = { outcome: 'misconfigured', waitSeconds: null, state: 'failed' };
