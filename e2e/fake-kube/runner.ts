import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface RunResult {
  exitCode: number;
  /** `Completed`, `Error`, `OOMKilled`, `DeadlineExceeded` or `Killed`. */
  reason: string;
}

export interface RunningContainer {
  pid: number;
  done: Promise<RunResult>;
  /** SIGKILLs the process group; the result's reason becomes `reason`. */
  kill(reason: string): void;
}

/** Kubernetes quantity (`500Mi`, `1G`, `1048576`) in bytes. */
export function parseQuantity(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(q.trim());
  if (!m) throw new Error(`bad quantity ${q}`);
  const unit = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };
  return Number(m[1]) * (m[2] ? unit[m[2] as keyof typeof unit] : 1);
}

/** The process and all its descendants (the pilot starts payloads in their own groups). */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone
    }
  }
  const out: number[] = [];
  const todo = [root];
  while (todo.length) {
    const pid = todo.pop()!;
    out.push(pid);
    todo.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** Resident memory of a process tree in bytes (sum of VmRSS; no cgroups needed). */
export function treeRss(root: number): number {
  let total = 0;
  for (const pid of processTree(root)) {
    try {
      const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (rss) total += Number(rss[1]) * 1024;
    } catch {
      // gone
    }
  }
  return total;
}

/**
 * Runs a container's command as a local process group with the given env; kills it with
 * reason OOMKilled (exit 137) when the process tree's RSS exceeds `memoryLimitBytes`, as the kernel's
 * cgroup OOM killer would, and with DeadlineExceeded after `deadlineS`.
 */
export function runContainer(
  command: string[],
  env: Record<string, string>,
  cwd: string,
  logFile: number,
  memoryLimitBytes: number | undefined,
  deadlineS: number | undefined,
): RunningContainer {
  const child = spawn(command[0]!, command.slice(1), {
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env },
    cwd,
    detached: true,
    stdio: ['ignore', logFile, logFile],
  });
  const pid = child.pid ?? 0;
  let killReason: string | undefined;
  const kill = (reason: string) => {
    killReason ??= reason;
    for (const p of [-pid, ...processTree(pid)]) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // gone
      }
    }
  };
  const memTimer = memoryLimitBytes
    ? setInterval(() => {
        if (treeRss(pid) > memoryLimitBytes) kill('OOMKilled');
      }, 100)
    : undefined;
  const deadline = deadlineS ? setTimeout(() => kill('DeadlineExceeded'), deadlineS * 1000) : undefined;
  const done = new Promise<RunResult>((resolve) => {
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      clearInterval(memTimer);
      clearTimeout(deadline);
      const exitCode = code ?? (signal === 'SIGKILL' ? 137 : 128 + 15);
      const reason = killReason ?? (exitCode === 0 ? 'Completed' : 'Error');
      resolve({ exitCode: killReason === 'OOMKilled' ? 137 : exitCode, reason });
    };
    child.once('exit', finish);
    child.once('error', () => finish(127, null));
  });
  return { pid, done, kill };
}
