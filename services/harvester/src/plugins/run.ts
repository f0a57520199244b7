import { execFile } from 'node:child_process';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Killed (SIGKILL) after this long; default 30 s (batch-system commands can hang). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** A batch-system command failed to run at all (not found, timed out, aborted). */
export class CommandError extends Error {
  constructor(
    readonly command: string,
    message: string,
  ) {
    super(`${command}: ${message}`);
    this.name = 'CommandError';
  }
}

/**
 * Runs a command without a shell and resolves with its exit code and output; a non-zero exit
 * is a result, not an error. Rejects with CommandError when it could not run or timed out.
 */
export function runCommand(command: string, args: string[], o: RunOptions = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      {
        env: o.env,
        cwd: o.cwd,
        timeout: o.timeoutMs ?? 30_000,
        killSignal: 'SIGKILL',
        signal: o.signal,
        maxBuffer: 16 * 1024 * 1024,
        encoding: 'utf8',
      },
      (err, stdout, stderr) => {
        if (!err) return resolve({ code: 0, stdout, stderr });
        const e = err as NodeJS.ErrnoException & { code?: number | string; killed?: boolean };
        if (typeof e.code === 'number') return resolve({ code: e.code, stdout, stderr });
        if (e.killed) return reject(new CommandError(command, `timed out or killed (${stderr.trim()})`));
        reject(new CommandError(command, e.message));
      },
    );
  });
}

/** Splits a list into chunks of at most `size`. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
