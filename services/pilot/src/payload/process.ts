import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import type { WriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { constants } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';

export const STDOUT_FILE = 'payload.stdout';
export const STDERR_FILE = 'payload.stderr';

export interface PayloadExit {
  /** The exit code, or 128 + signal number when killed by a signal, or -1 if it never started. */
  exitCode: number;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all. */
  spawnError?: Error;
}

export interface PayloadOptions {
  command: string;
  /** Work directory; payload.stdout and payload.stderr are written here. */
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** Called with each output line, e.g. to echo it with a prefix. */
  echo?: (stream: 'stdout' | 'stderr', line: string) => void;
  /** A cgroup's `cgroup.procs`: the payload joins it before the command runs. */
  cgroupProcs?: string;
}

/**
 * Joins the cgroup (`$1`), then becomes `bash -c <command>` (`$2`) in the same process, so the
 * command and everything it starts are in the cgroup from their first byte of memory.
 */
const JOIN_CGROUP =
  'echo $$ > "$1" || { echo "panda-pilot: cannot join memory cgroup $1" >&2; exit 126; }; exec bash -c "$2"';

/**
 * A payload: `bash -c <command>` in its own process group (and, if given, its own memory
 * cgroup), its output written to files in the work dir and echoed line by line. `exited` resolves once the process ended and its
 * output is on disk.
 */
export class Payload {
  readonly exited: Promise<PayloadExit>;
  private readonly child: ChildProcess;

  private constructor(child: ChildProcess, exited: Promise<PayloadExit>) {
    this.child = child;
    this.exited = exited;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  static start(options: PayloadOptions): Payload {
    const args = options.cgroupProcs
      ? ['-c', JOIN_CGROUP, 'panda-payload', options.cgroupProcs, options.command]
      : ['-c', options.command];
    const child = spawn('bash', args, {
      cwd: options.cwd,
      env: options.env,
      detached: true, // own process group, so the whole tree can be killed
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = createWriteStream(join(options.cwd, STDOUT_FILE));
    const err = createWriteStream(join(options.cwd, STDERR_FILE));
    capture(child.stdout, out, (line) => options.echo?.('stdout', line));
    capture(child.stderr, err, (line) => options.echo?.('stderr', line));
    const exited = waitForExit(child, [out, err]);
    return new Payload(child, exited);
  }

  /** SIGTERM to the process group, SIGKILL after `graceMs` if it is still there. */
  async kill(graceMs: number): Promise<void> {
    if (!this.signalGroup('SIGTERM')) return;
    const gone = await Promise.race([this.exited.then(() => true), sleep(graceMs, false)]);
    if (!gone) this.signalGroup('SIGKILL');
    await this.exited;
  }

  /** Sends `signal` to the payload's process group; false if there is nothing to signal. */
  private signalGroup(signal: NodeJS.Signals): boolean {
    return signalGroup(this.child.pid, signal);
  }
}

function signalGroup(pid: number | undefined, signal: NodeJS.Signals): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false; // ESRCH: the group is gone
  }
}

function capture(source: Readable | null, sink: WriteStream, onLine: (line: string) => void): void {
  // A write error (disk full) must not crash the pilot; the payload still runs and is reported.
  sink.on('error', () => undefined);
  if (!source) return;
  source.pipe(sink);
  const lines = createInterface({ input: source, crlfDelay: Infinity });
  lines.on('line', onLine);
}

async function waitForExit(child: ChildProcess, sinks: WriteStream[]): Promise<PayloadExit> {
  // 'close' (all pipes closed) may come in the same tick as 'exit': listen from the start.
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const exit = await new Promise<PayloadExit>((resolve) => {
    child.once('error', (error) => resolve({ exitCode: -1, signal: null, spawnError: error }));
    child.once('exit', (code, signal) => {
      // Leftover background processes would hold the pipes open: end the whole group.
      signalGroup(child.pid, 'SIGKILL');
      const exitCode = code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0);
      resolve({ exitCode, signal });
    });
  });
  if (!exit.spawnError) await closed;
  for (const sink of sinks) if (!sink.writableEnded) sink.end();
  await Promise.all(sinks.map((sink) => finished(sink).catch(() => undefined)));
  return exit;
}

/** Up to the last `bytes` of a file as text; empty if it cannot be read. */
export async function readTail(path: string, bytes = 16 * 1024): Promise<string> {
  let handle;
  try {
    handle = await open(path, 'r');
    const { size } = await handle.stat();
    const length = Math.min(size, bytes);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    return buffer.toString('utf8');
  } catch {
    return '';
  } finally {
    await handle?.close();
  }
}
