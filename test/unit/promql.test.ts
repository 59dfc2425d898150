import { selectorsOf } from '../harness/promql';

describe('selectorsOf (the PromQL the dashboard test reads)', () => {
  it('finds the series, their matchers and the labels their aggregations group by', () => {
    expect(
      selectorsOf(
        'histogram_quantile(0.99, sum by (le, outcome) (rate(hookflow_attempt_duration_seconds_bucket[$__rate_interval])))',
      ),
    ).toEqual([
      { metric: 'hookflow_attempt_duration_seconds_bucket', matchers: [], groupedBy: ['le', 'outcome'] },
    ]);
    expect(
      selectorsOf(
        'sum(rate(hookflow_deliveries_total{outcome="failed"}[15m])) / sum(rate(hookflow_deliveries_total[15m]))',
      ),
    ).toEqual([
      {
        metric: 'hookflow_deliveries_total',
        matchers: [{ label: 'outcome', op: '=', value: 'failed' }],
        groupedBy: [],
      },
      { metric: 'hookflow_deliveries_total', matchers: [], groupedBy: [] },
    ]);
    expect(selectorsOf('max(hookflow_undispatched_deliveries) by (instance) > bool 0')).toEqual([
      { metric: 'hookflow_undispatched_deliveries', matchers: [], groupedBy: ['instance'] },
    ]);
    expect(selectorsOf('sum without (job) (x{a=~\'b.*\', c!="d"} offset 5m) * -1')).toEqual([
      {
        metric: 'x',
        matchers: [
          { label: 'a', op: '=~', value: 'b.*' },
          { label: 'c', op: '!=', value: 'd' },
        ],
        groupedBy: ['job'],
      },
    ]);
  });

  it('refuses what it cannot read', () => {
    expect(() => selectorsOf('sum(rate(x[5m])')).toThrow(/PromQL/);
    expect(() => selectorsOf('x y')).toThrow(/left over/);
    expect(() => selectorsOf('x # y')).toThrow(/cannot read/);
  });
});
