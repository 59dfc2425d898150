import { describeError } from '../errors';
import type { ChildOutput } from './child-output';
import { ChildExited, describeExit, quoteLastWords, type ChildExit } from './child-exit';
import { DEFAULT_RESTART_RULE, onDeath, type RestartRule } from './restart-rule';

/** A started child: its pid, the promise of its exit, and how to stop it. */
export interface RunningChild {
  pid: number | undefined;
  exited: Promise<ChildExit>;
  stop(): Promise<void>;
}

export interface SupervisorOptions<C extends RunningChild> {
  /** As the user reads it: "PostgreSQL", "Temporal dev server". */
  name: string;
  /** Starts the child and resolves once it is ready; rejects with ChildExited if it died first. */
  start(): Promise<C>;
  output: ChildOutput;
  say(line: string): void;
  /** The child died and will not be restarted: the launcher stops everything and exits non-zero. */
  onGiveUp(reason: string): void;
  rule?: RestartRule;
}

/** The child cannot run here: it died `maxDeathsInARow` times in a row. */
export class GaveUp extends Error {
  constructor(name: string, deaths: number, cause: string, lastWords: string[], logFile: string | null) {
    const where = logFile ? ` (full log: ${logFile})` : '';
    super(
      `${name} ${cause}: ${deaths} deaths in a row, each soon after a start; not starting it again. Its last words${where}:${quoteLastWords(lastWords)}`,
    );
    this.name = 'GaveUp';
  }
}

/**
 * Keeps one child of `hookflow dev` running: restarts it when it dies, with the backoff of
 * the restart rule and a line for each restart, and gives up (onGiveUp) when it keeps dying.
 * Its parts that depend on the child (pool, worker, client) reconnect by themselves; this
 * only brings the child back.
 */
export class Supervisor<C extends RunningChild = RunningChild> {
  private readonly rule: RestartRule;
  private child: C | null = null;
  private deathsInARow = 0;
  private stopping = false;
  private wake: (() => void) | null = null;
  private restarting: Promise<void> | null = null;
  private starting: Promise<C> | null = null;

  constructor(private readonly opts: SupervisorOptions<C>) {
    this.rule = opts.rule ?? DEFAULT_RESTART_RULE;
  }

  /** The first start, tried again like a restart when the child exits before it is ready. */
  async start(): Promise<C> {
    await this.startUntilRunning();
    return this.child!;
  }

  /**
   * No restart from now on (a waiting one is cancelled). Called first thing on Ctrl-C, which
   * the terminal also sends to the children: their exits are the stop, not deaths.
   */
  stopRestarting(): void {
    this.stopping = true;
    this.wake?.();
  }

  /** Stops the child for good, one that is still starting included (SIGTERM to the launcher alone). */
  async stop(): Promise<void> {
    this.stopRestarting();
    await this.restarting?.catch(() => undefined);
    await this.starting?.catch(() => undefined);
    await this.child?.stop();
    await this.opts.output.close();
  }

  private async startUntilRunning(): Promise<void> {
    for (;;) {
      this.opts.output.begin(`starting ${this.opts.name}`);
      try {
        this.starting = this.opts.start();
        const child = await this.starting;
        this.watch(child, Date.now());
        return;
      } catch (err) {
        // Anything but the child's own early exit (a taken port, a missing binary) will not pass.
        if (!(err instanceof ChildExited) || this.stopping) throw err;
        const decision = onDeath(this.rule, this.deathsInARow, 0);
        this.deathsInARow = decision.deathsInARow;
        const cause = `exited before it was ready (${describeExit(err.exit)})`;
        if (decision.action === 'give-up')
          throw new GaveUp(
            this.opts.name,
            decision.deathsInARow,
            cause,
            err.lastWords,
            this.opts.output.logFile,
          );
        this.opts.say(
          `${this.opts.name} ${cause}: ${err.lastWords.at(-1) ?? 'no output'}; starting it again in ${seconds(decision.delayMs)}`,
        );
        await this.pause(decision.delayMs);
        if (this.stopping) throw err;
      }
    }
  }

  private watch(child: C, startedAt: number): void {
    this.child = child;
    void child.exited.then((exit) => {
      if (this.stopping || this.child !== child) return;
      const decision = onDeath(this.rule, this.deathsInARow, Date.now() - startedAt);
      this.deathsInARow = decision.deathsInARow;
      const lastWords = this.opts.output.lastWords();
      if (decision.action === 'give-up') {
        const cause = `died (${describeExit(exit)})`;
        const { logFile } = this.opts.output;
        this.opts.onGiveUp(
          new GaveUp(this.opts.name, decision.deathsInARow, cause, lastWords, logFile).message,
        );
        return;
      }
      this.opts.say(
        `${this.opts.name} died (${describeExit(exit)}, pid ${child.pid}); restarting it in ${seconds(decision.delayMs)}`,
      );
      this.restarting = (async () => {
        await this.pause(decision.delayMs);
        if (this.stopping) return;
        await this.startUntilRunning();
        this.opts.say(`${this.opts.name} restarted (pid ${this.child?.pid})`);
      })().catch((err: unknown) => {
        if (this.stopping) return;
        const { name } = this.opts;
        this.opts.onGiveUp(
          err instanceof GaveUp ? err.message : `${name} could not be restarted: ${describeError(err)}`,
        );
      });
    });
  }

  /** A wait that stop() cuts short. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}

function seconds(ms: number): string {
  return `${ms / 1000} s`;
}
