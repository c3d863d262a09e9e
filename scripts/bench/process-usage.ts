import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time and memory of the processes a benchmark involves, read from Linux's /proc: where the
 * machine's two cores went during a run (the controller, PostgreSQL, Redis, the benchmark's own
 * clients), which is what says whether a figure is bound by the controller or by the database.
 */

/** Linux's USER_HZ: /proc reports CPU time in these ticks. */
const TICKS_PER_SECOND = 100;

export function rssBytes(pid: number): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1];
    return kb === undefined ? null : Number(kb) * 1024;
  } catch {
    return null;
  }
}

interface ProcStat {
  comm: string;
  cpuSeconds: number;
  /** A PostgreSQL backend's database (from its process title); unset for the server's own processes. */
  database?: string;
}

function procStat(pid: string): ProcStat | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const open = text.indexOf('(');
    const close = text.lastIndexOf(')');
    const fields = text.slice(close + 2).split(' ');
    // after the command: state is field 3, utime and stime are fields 14 and 15 (1-based)
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    const comm = text.slice(open + 1, close);
    const database = comm === 'postgres' ? backendDatabase(pid) : undefined;
    return {
      comm,
      cpuSeconds: (utime + stime) / TICKS_PER_SECOND,
      ...(database ? { database } : {}),
    };
  } catch {
    return null;
  }
}

/**
 * The database of a PostgreSQL client backend, from the title PostgreSQL gives it
 * ("postgres: 15/main: USER DATABASE HOST(PORT) STATE"); undefined for the postmaster and the
 * server's background processes (checkpointer, WAL writer, …), which all databases share.
 */
function backendDatabase(pid: string): string | undefined {
  try {
    const title = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
    return /^postgres: (?:\S+: )?\S+ (\S+) (?:\S+\(\d+\)|\[local\])/.exec(title)?.[1];
  } catch {
    return undefined;
  }
}

/** CPU seconds of every process at one moment, and of the whole machine. */
export interface CpuSnapshot {
  at: number;
  machine: number;
  processes: Map<number, ProcStat>;
}

export function cpuSnapshot(): CpuSnapshot {
  const processes = new Map<number, ProcStat>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(entry);
    if (stat) processes.set(Number(entry), stat);
  }
  return { at: performance.now() / 1000, machine: machineBusySeconds(), processes };
}

/** Busy CPU seconds of the whole machine (all cores) since boot. */
function machineBusySeconds(): number {
  const first = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const [, user, nice, system, , , irq, softirq, steal] = first.trim().split(/\s+/).map(Number);
  return (
    ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) /
    TICKS_PER_SECOND
  );
}

/** A named group: one process, or several (replicas) counted together. */
export type NamedPids = Record<string, number | readonly number[] | undefined>;

/**
 * CPU seconds used between two snapshots by group: the named pids, PostgreSQL, Redis, this
 * process (`bench clients`), and every other command by its name. PostgreSQL is the server's own
 * processes and the backends of `database` (all backends when unset); on a machine other work
 * shares, the backends of other databases are `other: postgres, other databases`.
 */
function cpuSecondsByGroup(
  before: CpuSnapshot,
  after: CpuSnapshot,
  named: NamedPids,
  database?: string,
): Map<string, number> {
  const groupOf = new Map<number, string>();
  for (const [group, pids] of Object.entries(named)) {
    for (const pid of pids === undefined ? [] : typeof pids === 'number' ? [pids] : pids)
      groupOf.set(pid, group);
  }
  groupOf.set(process.pid, 'bench clients');
  const seconds = new Map<string, number>();
  for (const [pid, now] of after.processes) {
    const then = before.processes.get(pid);
    const used = now.cpuSeconds - (then && then.comm === now.comm ? then.cpuSeconds : 0);
    if (used <= 0) continue;
    const group =
      groupOf.get(pid) ??
      (now.comm === 'postgres'
        ? database === undefined || now.database === undefined || now.database === database
          ? 'postgres'
          : 'other: postgres, other databases'
        : now.comm === 'redis-server'
          ? 'redis'
          : `other: ${now.comm}`);
    seconds.set(group, (seconds.get(group) ?? 0) + used);
  }
  return seconds;
}

const mainGroups = (named: NamedPids) => [...Object.keys(named), 'postgres', 'redis', 'bench clients'];

/**
 * Cores used between two snapshots (CPU seconds / wall seconds): the named groups, PostgreSQL,
 * Redis, this process (`bench clients`), any other command that used at least 0.05 of a core
 * (another session's tests show up here), all other processes together, and the machine as a
 * whole. Time of processes that exited in between, and of the kernel's own work outside any
 * process, is only in `machine`.
 */
export function coresUsed(
  before: CpuSnapshot,
  after: CpuSnapshot,
  named: NamedPids,
  database?: string,
): Record<string, number> {
  const wall = after.at - before.at;
  const seconds = cpuSecondsByGroup(before, after, named, database);
  const used: Record<string, number> = {};
  const cores = (s: number) => Math.round((s / wall) * 100) / 100;
  for (const group of mainGroups(named)) used[group] = cores(seconds.get(group) ?? 0);
  let others = 0;
  for (const [group, s] of seconds) {
    if (group in used) continue;
    others += s;
    if (cores(s) >= 0.05) used[group] = cores(s);
  }
  used['all other processes'] = cores(others);
  // On a shared machine, other sessions' short-lived processes (test workers, compilers) end
  // before the second snapshot: their time shows only here.
  const seen = [...seconds.values()].reduce((a, b) => a + b, 0);
  used['processes gone by the end, and the kernel'] = cores(
    Math.max(0, after.machine - before.machine - seen),
  );
  used.machine = cores(after.machine - before.machine);
  return used;
}

/**
 * CPU per decision in core-µs (CPU microseconds, whichever core ran them) of the named groups,
 * PostgreSQL, Redis and the benchmark's clients, between two snapshots in which `decisions` were
 * handled: what sizes a deployment, since N decisions/s need N × core-µs / 10^6 cores of each.
 */
export function cpuPerDecision(
  before: CpuSnapshot,
  after: CpuSnapshot,
  named: NamedPids,
  decisions: number,
  database?: string,
): Record<string, number> {
  const seconds = cpuSecondsByGroup(before, after, named, database);
  const perDecision: Record<string, number> = {};
  for (const group of mainGroups(named)) {
    perDecision[group] = decisions > 0 ? Math.round(((seconds.get(group) ?? 0) / decisions) * 1e7) / 10 : 0;
  }
  return perDecision;
}

export function describeCores(used: Record<string, number>): string {
  return Object.entries(used)
    .map(([group, cores]) => `${group} ${cores.toFixed(2)}`)
    .join(', ');
}

export function describeCpuPerDecision(perDecision: Record<string, number>): string {
  return Object.entries(perDecision)
    .map(([group, micros]) => `${group} ${micros.toFixed(1)}`)
    .join(', ')
    .concat(' core-µs');
}
