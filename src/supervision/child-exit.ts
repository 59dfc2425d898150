import type { ChildProcess } from 'node:child_process';

/** How a child process ended. */
export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Resolves when the child has exited (at once if it already has); never rejects. */
export function exitOf(child: ChildProcess): Promise<ChildExit> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null)
      resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

export function describeExit({ code, signal }: ChildExit): string {
  return signal ? `killed by ${signal}` : `exit code ${code}`;
}

/** One line per last word, indented under the sentence that introduces them. */
export function quoteLastWords(lines: string[]): string {
  return lines.length ? lines.map((l) => `\n  | ${l}`).join('') : '\n  (it printed nothing)';
}

/**
 * The child exited before it was ready. The supervisor tries such a start again (the cause
 * may pass: a previous PostgreSQL still exiting); any other start failure is reported at once.
 */
export class ChildExited extends Error {
  constructor(
    readonly child: string,
    readonly exit: ChildExit,
    readonly lastWords: string[],
  ) {
    super(`${child} exited before it was ready (${describeExit(exit)}):${quoteLastWords(lastWords)}`);
    this.name = 'ChildExited';
  }
}
