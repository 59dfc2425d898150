/**
 * When `hookflow dev` restarts a child that died, and when it gives up. Pure: the supervisor
 * (supervisor.ts) keeps the count and the clock and does what this answers.
 *
 * A death "in a row" is one that came soon after the child's start (a failed start counts,
 * with no uptime at all). A child that had run for `stableAfterMs` was healthy: its death
 * starts a new row. The first death of a row is restarted after `initialDelayMs`, each
 * further one after twice the delay before (at most `maxDelayMs`); the death that makes
 * `maxDeathsInARow` is not restarted: the child cannot run here and saying so beats a loop.
 */
export interface RestartRule {
  initialDelayMs: number;
  maxDelayMs: number;
  maxDeathsInARow: number;
  stableAfterMs: number;
}

/**
 * Five deaths in a row are 0.5 + 1 + 2 + 4 s of waiting: long enough for a previous
 * PostgreSQL to finish exiting (its lock file and shared memory), short enough that a child
 * that cannot start is reported while the user still looks.
 */
export const DEFAULT_RESTART_RULE: RestartRule = {
  initialDelayMs: 500,
  maxDelayMs: 8_000,
  maxDeathsInARow: 5,
  stableAfterMs: 30_000,
};

export type RestartDecision =
  { action: 'restart'; delayMs: number; deathsInARow: number } | { action: 'give-up'; deathsInARow: number };

/**
 * @param deathsInARow the count before this death (0 for a child that never died)
 * @param uptimeMs how long the child ran before this death; 0 when it died while starting
 */
export function onDeath(rule: RestartRule, deathsInARow: number, uptimeMs: number): RestartDecision {
  const count = (uptimeMs >= rule.stableAfterMs ? 0 : deathsInARow) + 1;
  if (count >= rule.maxDeathsInARow) return { action: 'give-up', deathsInARow: count };
  const delayMs = Math.min(rule.maxDelayMs, rule.initialDelayMs * 2 ** (count - 1));
  return { action: 'restart', delayMs, deathsInARow: count };
}
