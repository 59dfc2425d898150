/**
 * Just enough of PromQL to say which series an expression reads: every vector selector's
 * metric name and label matchers, and the labels the aggregations around it group by
 * (`sum by (le, outcome) (…)` needs `le` and `outcome` on the series inside). Functions,
 * binary operators, numbers, strings, ranges and offsets are walked over. An expression it
 * cannot read throws, so a dashboard cannot slip past the test that uses it.
 */
export interface Selector {
  metric: string;
  matchers: Array<{ label: string; op: string; value: string }>;
  groupedBy: string[];
}

const AGGREGATIONS = new Set([
  'sum',
  'min',
  'max',
  'avg',
  'group',
  'stddev',
  'stdvar',
  'count',
  'count_values',
  'bottomk',
  'topk',
  'quantile',
]);
const BINARY = new Set([
  '+',
  '-',
  '*',
  '/',
  '%',
  '^',
  '==',
  '!=',
  '>',
  '<',
  '>=',
  '<=',
  'and',
  'or',
  'unless',
]);

function tokenize(expr: string): string[] {
  const re =
    /\s*(?:("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|(\[[^\]]*\])|([A-Za-z_:][A-Za-z0-9_:]*)|(\d[\d.]*(?:e[+-]?\d+)?[a-z]*)|(=~|!~|==|!=|>=|<=|[-+*/%^=<>(){},]))/y;
  const tokens: string[] = [];
  let at = 0;
  while (at < expr.length) {
    if (/^\s*$/.test(expr.slice(at))) break;
    re.lastIndex = at;
    const m = re.exec(expr);
    if (!m) throw new Error(`PromQL: cannot read "${expr.slice(at)}" in ${expr}`);
    tokens.push(m[1] ?? m[2] ?? m[3] ?? m[4] ?? m[5]);
    at = re.lastIndex;
  }
  return tokens;
}

export function selectorsOf(expr: string): Selector[] {
  const tokens = tokenize(expr);
  let i = 0;
  const peek = () => tokens[i];
  const take = (want?: string) => {
    const t = tokens[i++];
    if (want !== undefined && t !== want)
      throw new Error(`PromQL: expected "${want}", found "${t}" in ${expr}`);
    return t;
  };
  const labelList = (): string[] => {
    take('(');
    const labels: string[] = [];
    while (peek() !== ')') {
      labels.push(take());
      if (peek() === ',') take();
    }
    take(')');
    return labels;
  };

  function term(): Selector[] {
    const t = take();
    if (t === undefined) throw new Error(`PromQL: unexpected end of ${expr}`);
    if (t === '(') {
      const inner = expression();
      take(')');
      return inner;
    }
    if (t === '-' || t === '+') return term();
    if (/^[\d"']/.test(t)) return [];
    if (AGGREGATIONS.has(t)) {
      const grouping = () => (peek() === 'by' || peek() === 'without' ? (take(), labelList()) : []);
      const before = grouping();
      const inner = args();
      const grouped = [...before, ...grouping()];
      for (const s of inner) s.groupedBy.push(...grouped);
      return inner;
    }
    if (peek() === '(') return args();
    if (!/^[A-Za-z_:]/.test(t)) throw new Error(`PromQL: unexpected "${t}" in ${expr}`);
    const selector: Selector = { metric: t, matchers: [], groupedBy: [] };
    if (peek() === '{') {
      take('{');
      while (peek() !== '}') {
        const label = take();
        const op = take();
        const value = take().slice(1, -1);
        selector.matchers.push({ label, op, value });
        if (peek() === ',') take();
      }
      take('}');
    }
    if (peek()?.startsWith('[')) take();
    if (peek() === 'offset') i += 2;
    return [selector];
  }

  function args(): Selector[] {
    take('(');
    const found: Selector[] = [];
    while (peek() !== ')') {
      found.push(...expression());
      if (peek() === ',') take();
    }
    take(')');
    return found;
  }

  function expression(): Selector[] {
    const found = term();
    while (peek() !== undefined && BINARY.has(peek())) {
      take();
      if (peek() === 'bool') take();
      if (peek() === 'on' || peek() === 'ignoring') {
        take();
        labelList();
      }
      found.push(...term());
    }
    return found;
  }

  const all = expression();
  if (i !== tokens.length) throw new Error(`PromQL: "${tokens.slice(i).join(' ')}" left over in ${expr}`);
  return all;
}
