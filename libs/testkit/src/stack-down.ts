import { existsSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { freezeLog, stopPostgresDataDir } from './postgres.js';
import {
  commandLine,
  findProcessesWithEnv,
  isAlive,
  signal as sendSignal,
  stopProcessGroup,
  waitForExit,
} from './proc.js';
import { readStackInfo, SERVICES, STACK_FILE, STACK_MARKER_ENV, sweepStack } from './stack-file.js';

export interface StopStackOptions {
  log?: (line: string) => void;
  /** How long the owning process gets to stop the stack itself (default 90 s). */
  ownerGraceMs?: number;
}

/**
 * Stops the stack described by `<dir>/stack.json` from another process: asks its owner (`stack-cli
 * up`) to stop with SIGTERM, then removes whatever is still there (a crashed owner's services,
 * nats-server, PostgreSQL). Returns false when there was no stack.json.
 */
export async function stopStackFromFile(dir: string, options: StopStackOptions = {}): Promise<boolean> {
  const log = options.log ?? (() => undefined);
  dir = resolve(dir);
  const info = readStackInfo(dir);
  if (info === undefined) {
    const swept = sweepStack(dir);
    if (swept.length > 0) log(`killed ${swept.length} stray process(es) of ${dir}`);
    return false;
  }

  const owner = info.ownerPid;
  if (owner !== process.pid && isAlive(owner) && commandLine(owner) === info.ownerCommand) {
    if (info.ownerCommand.includes('stack-cli')) {
      log(`asking the stack owner (pid ${owner}) to stop`);
      sendSignal(owner, 'SIGTERM');
      if (!(await waitForExit(owner, options.ownerGraceMs ?? 90_000))) {
        log(`owner ${owner} did not stop in time; killing it`);
        sendSignal(owner, 'SIGKILL');
        await waitForExit(owner, 5_000);
      }
    } else {
      log(`the stack is owned by pid ${owner} (${info.ownerCommand}); stopping its parts directly`);
    }
  }

  // Whatever the owner did not clean up.
  for (const name of [...SERVICES].reverse()) {
    const record = info.services[name];
    if (record && isAlive(record.pid) && findProcessesWithEnv(STACK_MARKER_ENV, dir).includes(record.pid)) {
      await stopProcessGroup(record.pid, 10_000);
      log(`${name} stopped`);
    }
  }
  sweepStack(dir);
  if (info.nats && isAlive(info.nats.pid) && commandLine(info.nats.pid).includes('nats-server')) {
    await stopProcessGroup(info.nats.pid, 5_000);
    log('nats stopped');
  }
  if (info.nats) rmSync(info.nats.dir, { recursive: true, force: true });
  if (info.postgres) {
    if (existsSync(info.postgres.dataDir)) {
      await stopPostgresDataDir(info.postgres.dataDir);
      log('postgres stopped');
    }
    freezeLog(join(info.postgres.dir, 'postgres.log'), info.postgres.logFile);
    rmSync(info.postgres.dir, { recursive: true, force: true });
  }
  rmSync(join(dir, STACK_FILE), { force: true });
  return true;
}
