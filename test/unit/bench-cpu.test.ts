import { readFileSync } from 'node:fs';
import { parseStat, perItem, treeTicks, type ProcStat } from '../../bench/cpu';

/** A /proc/<pid>/stat line as proc(5) lays it out: 52 fields, times in fields 14–17. */
function statLine(pid: number, comm: string, t: Omit<ProcStat, 'pid' | 'comm'>): string {
  const fields = Array.from({ length: 50 }, () => '0'); // fields 3..52
  fields[0] = 'S';
  fields[4 - 3] = String(t.ppid);
  fields[14 - 3] = String(t.utime);
  fields[15 - 3] = String(t.stime);
  fields[16 - 3] = String(t.cutime);
  fields[17 - 3] = String(t.cstime);
  return `${pid} (${comm}) ${fields.join(' ')}\n`;
}

const proc = (pid: number, ppid: number, utime: number, cutime = 0): ProcStat => ({
  pid,
  comm: 'p',
  ppid,
  utime,
  stime: 1,
  cutime,
  cstime: 0,
});

describe('parseStat', () => {
  it('reads the fields after the last parenthesis, whatever the command name holds', () => {
    const comm = 'postgres: hookflow (x) 127.0.0.1(5432) idle';
    const line = statLine(4321, comm, { ppid: 77, utime: 120, stime: 30, cutime: 900, cstime: 55 });
    expect(parseStat(line)).toEqual({
      pid: 4321,
      comm,
      ppid: 77,
      utime: 120,
      stime: 30,
      cutime: 900,
      cstime: 55,
    });
  });

  it('reads this very process from /proc', () => {
    const s = parseStat(readFileSync('/proc/self/stat', 'utf8'));
    expect(s.pid).toBe(process.pid);
    expect(s.ppid).toBe(process.ppid);
    expect(s.utime + s.stime).toBeGreaterThan(0);
  });

  it.each(['', 'garbage', '12 (cut short) S 1'])('refuses %j', (line) => {
    expect(() => parseStat(line)).toThrow(/proc/);
  });
});

describe('treeTicks', () => {
  const stats = [
    proc(1, 0, 1000), // init: not in the tree
    proc(10, 1, 5, 40), // postmaster, with 40 ticks of exited backends
    proc(11, 10, 7), // a backend
    proc(12, 11, 3), // its child
    proc(20, 1, 100), // another server
  ];

  it('sums own and reaped-children time over a root and all its descendants', () => {
    // (5+1+40) + (7+1) + (3+1)
    expect(treeTicks(stats, [10])).toBe(58);
  });

  it('adds up several roots, and an unknown root counts nothing', () => {
    expect(treeTicks(stats, [10, 20])).toBe(58 + 101);
    expect(treeTicks(stats, [99])).toBe(0);
  });

  it('counts a process once when a root lies inside another root', () => {
    expect(treeTicks(stats, [10, 11])).toBe(58);
  });
});

describe('perItem', () => {
  it('divides each delta by the items and sums the stack', () => {
    const before = { hookflow: 100, temporal: 50, postgres: 10, bench: 0 };
    const after = { hookflow: 300, temporal: 150, postgres: 40, bench: 20 };
    expect(perItem(before, after, 10, ['hookflow', 'temporal', 'postgres'])).toEqual({
      hookflow: 20,
      temporal: 10,
      postgres: 3,
      bench: 2,
      stack: 33,
    });
  });

  it('has no stack without stack processes, and nothing per zero items', () => {
    expect(perItem({ a: 0 }, { a: 3 }, 2, [])).toEqual({ a: 1.5 });
    expect(perItem({ a: 0 }, { a: 3 }, 0, ['a'])).toBeNull();
  });
});
