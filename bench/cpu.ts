import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** The fields of one `/proc/<pid>/stat` line the bench needs; times in clock ticks. */
export interface ProcStat {
  pid: number;
  comm: string;
  ppid: number;
  utime: number;
  stime: number;
  /** CPU of children this process has waited for (PostgreSQL backends that have exited). */
  cutime: number;
  cstime: number;
}

/**
 * Parses one `/proc/<pid>/stat` line (proc(5)). The command name is in parentheses and may
 * itself hold spaces and parentheses, so the fixed fields are counted from the last `)`.
 */
export function parseStat(line: string): ProcStat {
  const open = line.indexOf('(');
  const close = line.lastIndexOf(')');
  if (open < 1 || close < open) throw new Error(`not a /proc/<pid>/stat line: ${line.slice(0, 80)}`);
  // fields[0] is field 3 (state), so field n of proc(5) is fields[n - 3].
  const fields = line
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  const field = (n: number) => {
    const v = Number(fields[n - 3]);
    if (!Number.isInteger(v)) throw new Error(`/proc/<pid>/stat: field ${n} is not a number in ${line}`);
    return v;
  };
  return {
    pid: Number(line.slice(0, open).trim()),
    comm: line.slice(open + 1, close),
    ppid: field(4),
    utime: field(14),
    stime: field(15),
    cutime: field(16),
    cstime: field(17),
  };
}

/**
 * CPU ticks of the process trees under `roots`: each live process's own time plus the time
 * of the children it has reaped (cutime, cstime). A process that exits moves its time into
 * its parent's cutime, so the sum never drops when a PostgreSQL backend ends.
 */
export function treeTicks(stats: ProcStat[], roots: number[]): number {
  const children = new Map<number, ProcStat[]>();
  for (const s of stats) {
    const siblings = children.get(s.ppid);
    if (siblings) siblings.push(s);
    else children.set(s.ppid, [s]);
  }
  const seen = new Set<number>();
  let ticks = 0;
  const visit = (s: ProcStat) => {
    if (seen.has(s.pid)) return;
    seen.add(s.pid);
    ticks += s.utime + s.stime + s.cutime + s.cstime;
    for (const c of children.get(s.pid) ?? []) visit(c);
  };
  for (const s of stats) if (roots.includes(s.pid)) visit(s);
  return ticks;
}

function readProcStats(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      out.push(parseStat(readFileSync(`/proc/${name}/stat`, 'utf8')));
    } catch {
      // gone between the listing and the read
    }
  }
  return out;
}

function msPerTick(): number {
  try {
    return 1000 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  } catch {
    return 10; // USER_HZ is 100 on every Linux the bench runs on
  }
}

/** CPU milliseconds used so far, by name. */
export type CpuMs = Record<string, number>;

/** Reads the CPU time of named process trees (and of the bench process itself) from /proc. */
export class CpuMeter {
  private readonly tickMs = msPerTick();

  /** `trees`: name → root pids, e.g. `{ postgres: [postmaster], hookflow: [api, worker] }`. */
  constructor(private readonly trees: Record<string, number[]>) {}

  read(): CpuMs {
    const stats = readProcStats();
    const out: CpuMs = {};
    for (const [name, roots] of Object.entries(this.trees)) out[name] = treeTicks(stats, roots) * this.tickMs;
    // The load generator and the receiver, for context (this process alone, not its children).
    const own = process.cpuUsage();
    out.bench = (own.user + own.system) / 1000;
    return out;
  }
}

/**
 * CPU ms per item between two reads, rounded to 0.1 ms, with `stack`: the sum over the
 * processes the scenario runs on (none for raw HTTP).
 */
export function perItem(before: CpuMs, after: CpuMs, items: number, stack: string[]): CpuMs | null {
  if (items <= 0) return null;
  const round = (v: number) => Math.round(v * 10) / 10;
  const out: CpuMs = {};
  for (const name of Object.keys(after)) out[name] = round((after[name] - (before[name] ?? 0)) / items);
  if (stack.length)
    out.stack = round(stack.reduce((sum, name) => sum + after[name] - (before[name] ?? 0), 0) / items);
  return out;
}
