import { Presets, SingleBar } from 'cli-progress';

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export interface Latency {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export function latencyOf(values: number[]): Latency {
  const s = [...values].sort((a, b) => a - b);
  const r = (v: number) => Math.round(v * 10) / 10;
  return {
    p50: r(percentile(s, 50)),
    p95: r(percentile(s, 95)),
    p99: r(percentile(s, 99)),
    max: r(s[s.length - 1] ?? NaN),
  };
}

/** Runs `task(i)` for i in [0, n) with at most `concurrency` at once. */
export async function runPool(
  n: number,
  concurrency: number,
  task: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, n) }, async () => {
    while (next < n) await task(next++);
  });
  await Promise.all(lanes);
}

/** One progress bar per scenario; in a pipe it prints a line every few seconds instead. */
export class Progress {
  private current: SingleBar | null = null;

  start(title: string, total: number, phase = ''): SingleBar {
    this.finish();
    this.log(title);
    this.current = new SingleBar(
      {
        format: ' {bar} {percentage}% | {value}/{total} {phase} | {duration}s',
        hideCursor: true,
        noTTYOutput: true,
        notTTYSchedule: 5000,
      },
      Presets.shades_classic,
    );
    this.current.start(total, 0, { phase });
    return this.current;
  }

  log(line: string): void {
    process.stderr.write(`${line}\n`);
  }

  finish(): void {
    if (this.current) {
      this.current.stop();
      this.current = null;
    }
  }

  stop(): void {
    this.finish();
  }
}

/** Polls `fn` into the bar until the promise settles. */
export async function track<T>(
  bar: SingleBar,
  promise: Promise<T>,
  value: () => number,
  phase?: string,
): Promise<T> {
  const timer = setInterval(() => bar.update(value(), phase ? { phase } : undefined), 250);
  try {
    return await promise;
  } finally {
    clearInterval(timer);
    bar.update(value(), phase ? { phase } : undefined);
  }
}

export const round = (v: number, digits = 1) => Math.round(v * 10 ** digits) / 10 ** digits;
