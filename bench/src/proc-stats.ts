import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const TICKS_PER_S = 100;

/** Peak resident set size (VmHWM) of a process in MB, or undefined once it is gone. */
export function peakRssMb(pid: number): number | undefined {
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : undefined;
  } catch {
    return undefined;
  }
}

interface Stat {
  ppid: number;
  /** user + system CPU seconds. */
  cpuS: number;
}

function stat(pid: number): Stat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: split after its closing parenthesis.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return {
      ppid: Number(fields[1]),
      cpuS: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S,
    };
  } catch {
    return undefined;
  }
}

/** CPU seconds of a process and, with `children`, of its live child processes, per pid. */
export function cpuByPid(pid: number, children = false): Map<number, number> {
  const out = new Map<number, number>();
  const own = stat(pid);
  if (own) out.set(pid, own.cpuS);
  if (!children) return out;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const s = stat(Number(entry));
    if (s?.ppid === pid) out.set(Number(entry), s.cpuS);
  }
  return out;
}

/**
 * CPU seconds used between two `cpuByPid` samples (processes started in between count in
 * full; those gone by the end are missed, which is fine for long-lived backends).
 */
export function cpuUsed(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, s] of after) total += s - (before.get(pid) ?? 0);
  return Math.round(total * 10) / 10;
}
