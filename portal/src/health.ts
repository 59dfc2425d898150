import type { EndpointStats } from './types';

/**
 * The two things the stats route counts, kept apart: MESSAGES (one delivery per message
 * sent to the endpoint, by its final state) and ATTEMPTS (every HTTP request, retries
 * included). A message delivered at its third try is one delivered message and three
 * attempts, two of them failed, so the two success rates differ; each figure says which
 * it counts.
 */

/** Messages delivered, as a percentage of those that finished (delivered, failed or cancelled). */
export function messageSuccessRate(stats: EndpointStats | undefined): number | null {
  if (!stats) return null;
  const finished = stats.success + stats.fail + (stats.canceled ?? 0);
  return finished ? (stats.success / finished) * 100 : null;
}

/** Attempts answered with a 2xx, as a percentage of all attempts. */
export function attemptSuccessRate(stats: EndpointStats | undefined): number | null {
  return typeof stats?.successRate === 'number' ? stats.successRate * 100 : null;
}

export function percent(rate: number | null): string {
  return rate === null ? '—' : `${rate.toFixed(rate === 100 ? 0 : 1)}%`;
}

export function rateClass(rate: number): string {
  return rate >= 95 ? 'ok' : rate >= 70 ? 'warn' : 'fail';
}

/** The latest attempts' HTTP codes as outcomes (MessageStatus: 0 success, 2 failure), newest first. */
export function lastAttemptOutcomes(stats: EndpointStats | undefined): number[] {
  return (stats?.lastStatuses ?? []).map((code) => (code >= 200 && code < 300 ? 0 : 2));
}
