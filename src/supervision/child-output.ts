import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import path from 'node:path';

const FIRST_WORDS = 2;
const LAST_WORDS = 10;

/**
 * A child's output: appended to its log file in the state directory (kept across restarts,
 * so a death can be read about afterwards), and the first and last lines of the current run
 * held in memory, so that a child that cannot be started or restarted is reported with what
 * it said itself (a Go panic names its reason first, then a long stack). Without a file
 * (tests, bench) only those lines are kept.
 */
export class ChildOutput {
  private readonly file: WriteStream | null = null;
  private head: string[] = [];
  private tail: string[] = [];
  private skipped = 0;
  private partial = '';

  constructor(readonly logFile: string | null = null) {
    if (!logFile) return;
    mkdirSync(path.dirname(logFile), { recursive: true });
    // Readable by its owner only, like the generated keys beside it.
    this.file = createWriteStream(logFile, { flags: 'a', mode: 0o600 });
    // A log that cannot be written must not take the launcher down with an 'error' event.
    this.file.on('error', () => undefined);
  }

  /** Marks a new run of the child in the file; its words start afresh. */
  begin(what: string): void {
    this.head = [];
    this.tail = [];
    this.skipped = 0;
    this.partial = '';
    this.file?.write(`--- hookflow: ${what} at ${new Date().toISOString()} ---\n`);
  }

  write(chunk: Buffer | string): void {
    const text = chunk.toString();
    this.file?.write(text);
    const lines = (this.partial + text).split(/\r?\n/);
    this.partial = lines.pop() ?? '';
    for (const line of lines) if (line.trim()) this.keep(line);
  }

  private keep(line: string): void {
    if (this.head.length < FIRST_WORDS) return void this.head.push(line);
    this.tail.push(line);
    if (this.tail.length > LAST_WORDS) {
      this.tail.shift();
      this.skipped++;
    }
  }

  /** The current run's first and last non-empty lines, an unfinished last line included. */
  lastWords(): string[] {
    const tail = this.partial.trim() ? [...this.tail, this.partial] : this.tail;
    return [...this.head, ...(this.skipped ? [`… (${this.skipped} more lines)`] : []), ...tail];
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.file ? this.file.end(resolve) : resolve()));
  }
}
