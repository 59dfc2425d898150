import { ChildOutput } from '../../src/supervision/child-output';
import { ChildExited, type ChildExit } from '../../src/supervision/child-exit';
import { Supervisor, type RunningChild } from '../../src/supervision/supervisor';
import { eventually } from '../harness/wait';

/**
 * The supervisor's plumbing with stand-in children (the real ones are killed in
 * test/launcher-supervision.test.ts): what it restarts, what it says, when it gives up.
 */
const rule = { initialDelayMs: 1, maxDelayMs: 4, maxDeathsInARow: 3, stableAfterMs: 60_000 };

interface Fake extends RunningChild {
  die(exit: ChildExit): void;
  stopped: boolean;
}

function fake(pid: number): Fake {
  let settle!: (exit: ChildExit) => void;
  const child: Fake = {
    pid,
    exited: new Promise((resolve) => (settle = resolve)),
    stopped: false,
    die: (exit) => settle(exit),
    async stop() {
      child.stopped = true;
      settle({ code: 0, signal: null });
    },
  };
  return child;
}

function setUp(starts: Array<() => Fake>) {
  const lines: string[] = [];
  const gaveUp: string[] = [];
  const children: Fake[] = [];
  const output = new ChildOutput();
  let n = 0;
  const supervisor = new Supervisor<Fake>({
    name: 'Thing',
    rule,
    output,
    say: (line) => lines.push(line),
    onGiveUp: (reason) => gaveUp.push(reason),
    start: async () => {
      const child = starts[Math.min(n++, starts.length - 1)]();
      children.push(child);
      return child;
    },
  });
  return { supervisor, lines, gaveUp, children, output, starts: () => n };
}

const killed = { code: null, signal: 'SIGKILL' as const };
const exitedEarly = (words: string[]) => () => {
  throw new ChildExited('Thing', { code: 1, signal: null }, words);
};

describe('Supervisor', () => {
  it('restarts a child that dies, says so, and stops the one that runs now', async () => {
    let pid = 100;
    const s = setUp([() => fake(pid++)]);
    const first = await s.supervisor.start();
    first.die(killed);
    await eventually(() => s.lines.some((l) => l.startsWith('Thing restarted (pid 101)')), 'the restart');
    expect(s.lines[0]).toBe('Thing died (killed by SIGKILL, pid 100); restarting it in 0.001 s');
    await s.supervisor.stop();
    expect(s.children.map((c) => c.stopped)).toEqual([false, true]);
    expect(s.gaveUp).toEqual([]);
  });

  it('gives up on a child that keeps dying, with its last words', async () => {
    const s = setUp([
      () => fake(1),
      exitedEarly(['starting', 'FATAL: the data directory is broken']) as () => Fake,
    ]);
    const child = await s.supervisor.start();
    s.output.write('LOG: ready\nFATAL: out of memory\n');
    child.die({ code: 1, signal: null });
    await eventually(() => s.gaveUp.length === 1, 'giving up');
    expect(s.gaveUp[0]).toMatch(/^Thing exited before it was ready \(exit code 1\): 3 deaths in a row/);
    expect(s.gaveUp[0]).toContain('\n  | FATAL: the data directory is broken');
    expect(s.starts()).toBe(3); // the first start and two restarts
    await s.supervisor.stop();
  });

  it('tries a first start again when the child exits early, and reports anything else at once', async () => {
    const early = setUp([
      exitedEarly(['lock file "postmaster.pid" already exists']) as () => Fake,
      () => fake(7),
    ]);
    expect((await early.supervisor.start()).pid).toBe(7);
    expect(early.lines).toEqual([
      'Thing exited before it was ready (exit code 1): lock file "postmaster.pid" already exists; starting it again in 0.001 s',
    ]);
    await early.supervisor.stop();

    const taken = setUp([
      () => {
        throw new Error('Port 7233 (Temporal) is already in use');
      },
    ]);
    await expect(taken.supervisor.start()).rejects.toThrow('Port 7233 (Temporal) is already in use');
    expect(taken.starts()).toBe(1);
  });

  it('restarts nothing once told to stop: Ctrl-C reaches the children too', async () => {
    const s = setUp([() => fake(1)]);
    const child = await s.supervisor.start();
    s.supervisor.stopRestarting();
    child.die({ code: 0, signal: null });
    await s.supervisor.stop();
    expect(s.starts()).toBe(1);
    expect(s.lines).toEqual([]);
    expect(s.gaveUp).toEqual([]);
  });

  it('stops a child that was still starting when told to stop (SIGTERM to the launcher alone)', async () => {
    let ready!: () => void;
    const child = fake(9);
    const supervisor = new Supervisor<Fake>({
      name: 'Thing',
      rule,
      output: new ChildOutput(),
      say: () => undefined,
      onGiveUp: () => undefined,
      start: () => new Promise((resolve) => (ready = () => resolve(child))),
    });
    const started = supervisor.start();
    const stopped = supervisor.stop();
    ready();
    await started;
    await stopped;
    expect(child.stopped).toBe(true);
  });
});
