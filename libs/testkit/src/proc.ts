import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { sleep } from './ports.js';

/** True while `pid` exists and is not a zombie. */
export function isAlive(pid: number | undefined): boolean {
  if (pid == null || pid <= 0) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) S ...": the state follows the last ')'.
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    try {
      process.kill(pid, 0);
      return true;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'EPERM';
    }
  }
}

/** Sends `signal` to a process (or, with a negative id, a process group); a missing target is fine. */
export function signal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await sleep(50);
  }
  return true;
}

/**
 * Stops a process that leads its own process group (spawned `detached`): SIGTERM to the leader,
 * up to `graceMs` for it to exit, then SIGKILL to the whole group so nothing it started survives.
 * Returns true when the leader exited on SIGTERM.
 */
export async function stopProcessGroup(pid: number, graceMs = 10_000): Promise<boolean> {
  let graceful = true;
  if (isAlive(pid)) {
    signal(pid, 'SIGTERM');
    graceful = await waitForExit(pid, graceMs);
  }
  signal(-pid, 'SIGKILL');
  await waitForExit(pid, 2_000);
  return graceful;
}

export interface SpawnLoggedOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** stdout and stderr go here (created or truncated). */
  logFile: string;
}

/** Starts a command in its own process group (so terminal Ctrl-C does not reach it) with output to a file. */
export function spawnLogged(command: string, args: string[], options: SpawnLoggedOptions): ChildProcess {
  mkdirSync(dirname(options.logFile), { recursive: true });
  const fd = openSync(options.logFile, 'w');
  try {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    child.once('error', () => undefined); // reported through exitCode / readiness checks
    return child;
  } finally {
    closeSync(fd);
  }
}

/** The last `lines` lines of a text file ('' when it cannot be read). */
export function tailFile(path: string, lines = 40): string {
  try {
    const text = readFileSync(path, 'utf8').trimEnd();
    return text.split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** The tail of a log file, indented, for error messages. */
export function describeLog(path: string, lines = 40): string {
  const tail = tailFile(path, lines);
  const body = tail === '' ? '  | (empty)' : tail.replace(/^/gm, '  | ');
  return `  log ${path} (last ${lines} lines):\n${body}`;
}

/** This process and its ancestors (they may carry a marker too and must not be killed by a sweep). */
function selfAndAncestors(): Set<number> {
  const chain = new Set<number>([process.pid]);
  let pid = process.ppid;
  while (pid > 1 && !chain.has(pid)) {
    chain.add(pid);
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      pid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      break;
    }
  }
  return chain;
}

/**
 * Processes whose environment holds `NAME=value` exactly (Linux /proc; unreadable entries skipped),
 * except this process and its ancestors.
 */
export function findProcessesWithEnv(name: string, value: string): number[] {
  const wanted = `${name}=${value}`;
  const found: number[] = [];
  const excluded = selfAndAncestors();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return found;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (excluded.has(pid)) continue;
    try {
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
      if (environ.split('\0').includes(wanted) && isAlive(pid)) found.push(pid);
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

/** The command line of a process ('' when gone). */
export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

const exitHooks = new Set<() => void>();
let exitHookInstalled = false;

/**
 * Registers a synchronous last-resort cleanup that runs if this process exits while the resource
 * is still up (a crash, process.exit). Returns a function that unregisters it.
 */
export function onProcessExit(hook: () => void): () => void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const h of exitHooks) {
        try {
          h();
        } catch {
          // best effort
        }
      }
    });
  }
  exitHooks.add(hook);
  return () => exitHooks.delete(hook);
}
