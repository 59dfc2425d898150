import { DEFAULT_RESTART_RULE, onDeath, type RestartRule } from '../../src/supervision/restart-rule';

const rule: RestartRule = {
  initialDelayMs: 500,
  maxDelayMs: 3000,
  maxDeathsInARow: 6,
  stableAfterMs: 30_000,
};

/** Feeds deaths (uptimes in ms) through the rule, as the supervisor does, and lists its answers. */
function run(uptimes: number[], r = rule) {
  let count = 0;
  return uptimes.map((uptime) => {
    const decision = onDeath(r, count, uptime);
    count = decision.deathsInARow;
    return decision.action === 'restart' ? decision.delayMs : 'give-up';
  });
}

describe('restart rule', () => {
  it('restarts quick deaths with a doubling delay, capped, and gives up at the limit', () => {
    expect(run([0, 10, 0, 5, 0, 0])).toEqual([500, 1000, 2000, 3000, 3000, 'give-up']);
  });

  it('starts a new row after a child that had run long enough', () => {
    expect(run([0, 0, 0, 30_000, 0])).toEqual([500, 1000, 2000, 500, 1000]);
    expect(run([29_999, 29_999])).toEqual([500, 1000]);
  });

  it('never gives up on a child that always ran long enough', () => {
    expect(run(Array(50).fill(60_000)).every((d) => d === 500)).toBe(true);
  });

  it('counts the death that reaches the limit', () => {
    expect(onDeath(rule, 5, 0)).toEqual({ action: 'give-up', deathsInARow: 6 });
    expect(onDeath(rule, 5, 30_000)).toEqual({ action: 'restart', delayMs: 500, deathsInARow: 1 });
  });

  it('by default: five deaths in a row, 7.5 s of waiting in all', () => {
    const answers = run([0, 0, 0, 0, 0], DEFAULT_RESTART_RULE);
    expect(answers).toEqual([500, 1000, 2000, 4000, 'give-up']);
  });
});
