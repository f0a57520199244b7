import { readdir, readFile } from 'node:fs/promises';

/** One sample of a whole process tree; memory in kB, CPU in seconds. */
export interface TreeSample {
  /** Milliseconds since the epoch. */
  time: number;
  pssKb: number;
  rssKb: number;
  vmemKb: number;
  swapKb: number;
  utimeS: number;
  stimeS: number;
  processes: number;
  threads: number;
}

/** Clock ticks per second of `/proc/<pid>/stat` times (USER_HZ, 100 on every Linux we target). */
const CLOCK_TICKS = 100;

interface StatLine {
  pid: number;
  /** R, S, D, Z (zombie: ended, not yet reaped), ... */
  state: string;
  ppid: number;
  pgrp: number;
  utime: number;
  stime: number;
  /** CPU of reaped children, which are no longer in the tree. */
  cutime: number;
  cstime: number;
}

/** Parses `/proc/<pid>/stat`; the command name may hold spaces and parentheses. */
export function parseStat(text: string): StatLine | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const pid = Number(text.slice(0, text.indexOf(' ')));
  // Fields after the name start at field 3 (state); ppid 4, pgrp 5, utime..cstime 14..17.
  const rest = text.slice(close + 2).split(' ');
  const field = (n: number) => Number(rest[n - 3]);
  const line = {
    pid,
    state: rest[0] ?? '',
    ppid: field(4),
    pgrp: field(5),
    utime: field(14),
    stime: field(15),
    cutime: field(16),
    cstime: field(17),
  };
  const { state, ...numbers } = line;
  return state && Object.values(numbers).every(Number.isFinite) ? line : undefined;
}

/** `Key:   123 kB` lines of status or smaps_rollup as numbers (kB). */
export function parseKbFields(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(\w+):\s+(\d+)/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined; // the process ended meanwhile, or is not ours to read
  }
}

async function allStats(): Promise<StatLine[]> {
  const names = await readdir('/proc');
  const stats = await Promise.all(
    names.filter((n) => /^\d+$/.test(n)).map(async (n) => readText(`/proc/${n}/stat`)),
  );
  return stats.flatMap((s) => {
    const parsed = s === undefined ? undefined : parseStat(s);
    return parsed ? [parsed] : [];
  });
}

/**
 * The pids of the tree rooted at `root`: its descendants by parent pid, plus every process
 * still in the root's process group (a daemonised child re-parented to init stays counted).
 */
export function treeOf(root: number, stats: readonly StatLine[]): StatLine[] {
  const children = new Map<number, StatLine[]>();
  for (const s of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s]);
  const picked = new Map<number, StatLine>();
  const stack = stats.filter((s) => s.pid === root || s.pgrp === root);
  while (stack.length > 0) {
    const s = stack.pop()!;
    if (picked.has(s.pid)) continue;
    picked.set(s.pid, s);
    stack.push(...(children.get(s.pid) ?? []));
  }
  return [...picked.values()];
}

/**
 * Samples the process tree of `root` from /proc: PSS and swap from `smaps_rollup`, RSS, VMEM
 * and threads from `status`, CPU times from `stat`. Undefined when the tree is gone.
 */
export async function sampleTree(root: number, now = Date.now()): Promise<TreeSample | undefined> {
  // A zombie has ended and holds no memory: not counted.
  const tree = treeOf(root, await allStats()).filter((p) => p.state !== 'Z');
  if (tree.length === 0) return undefined;
  const sample: TreeSample = {
    time: now,
    pssKb: 0,
    rssKb: 0,
    vmemKb: 0,
    swapKb: 0,
    utimeS: 0,
    stimeS: 0,
    processes: 0,
    threads: 0,
  };
  await Promise.all(
    tree.map(async (proc) => {
      const [status, rollup] = await Promise.all([
        readText(`/proc/${proc.pid}/status`),
        readText(`/proc/${proc.pid}/smaps_rollup`),
      ]);
      if (status === undefined) return;
      const st = parseKbFields(status);
      const sm = rollup === undefined ? undefined : parseKbFields(rollup);
      sample.processes += 1;
      sample.threads += st.get('Threads') ?? 1;
      sample.rssKb += st.get('VmRSS') ?? 0;
      sample.vmemKb += st.get('VmSize') ?? 0;
      // A kernel thread or zombie has no smaps: fall back to RSS as its PSS.
      sample.pssKb += sm?.get('Pss') ?? st.get('VmRSS') ?? 0;
      sample.swapKb += sm?.get('Swap') ?? st.get('VmSwap') ?? 0;
      sample.utimeS += (proc.utime + proc.cutime) / CLOCK_TICKS;
      sample.stimeS += (proc.stime + proc.cstime) / CLOCK_TICKS;
    }),
  );
  return sample.processes > 0 ? sample : undefined;
}
