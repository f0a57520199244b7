import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@panda/platform';
import { fileLogUrl } from './log-url.js';
import { handOver } from './push-file.js';
import type { SubmitResult, SubmitterPlugin, WorkerRef, WorkerSpec, WorkerStatus } from './types.js';

export interface LocalSubmitterOptions {
  /** Shell command starting a pilot; run with `sh -c` in its own process group. */
  command: string;
  /** Workers run in `<workDir>/workers/<workerId>`. */
  workDir: string;
  gatewayUrl: string;
  heartbeatS: number;
  /** Environment pilots start from (without the harvester's own settings). */
  baseEnv: NodeJS.ProcessEnv;
  logger: Logger;
  /** Called when a pilot exits (to wake the cycle). */
  onExit?: () => void;
}

interface LocalProcess {
  pid: number;
  /** Set once the process ended. */
  exit?: { code: number | null; signal: NodeJS.Signals | null };
  /** Harvester asked it to end: it is reported `cancelled`. */
  killRequested: boolean;
  /** Not started by this harvester process (found after a restart): no exit status. */
  foreign: boolean;
  exited?: Promise<void>;
}

export const PILOT_LOG = 'pilot.log';

/**
 * Local submitter: each worker is a pilot child process in its own process group, with its
 * output in `<workDir>/workers/<workerId>/pilot.log` (its log URL, `file://` with the absolute
 * path). A worker is `running` once spawned, `finished` when its pilot exits 0, `failed`
 * otherwise, `cancelled` when harvester killed it. It has no walltime limit (walltimeS 0).
 */
export class LocalSubmitter implements SubmitterPlugin {
  readonly name = 'local';
  readonly supportsPush = true;
  private readonly processes = new Map<string, LocalProcess>();

  constructor(private readonly o: LocalSubmitterOptions) {}

  workerDir(workerId: string): string {
    return join(this.o.workDir, 'workers', workerId);
  }

  async submit(spec: WorkerSpec): Promise<SubmitResult> {
    const dir = this.workerDir(spec.workerId);
    await mkdir(dir, { recursive: true });
    const handed = await handOver(spec, dir);
    const log = await open(join(dir, PILOT_LOG), 'a');
    let entry: LocalProcess;
    try {
      const child = spawn('/bin/sh', ['-c', this.o.command], {
        cwd: dir,
        detached: true, // own process group: a terminal's Ctrl-C does not reach it, harvester stops it
        stdio: ['ignore', log.fd, log.fd],
        env: {
          ...this.o.baseEnv,
          PANDA_PILOT_QUEUE: spec.queue,
          PANDA_PILOT_GATEWAY_URL: this.o.gatewayUrl,
          PANDA_PILOT_WORKER_ID: spec.workerId,
          PANDA_PILOT_WORK_DIR: dir,
          PANDA_PILOT_HEARTBEAT_S: String(this.o.heartbeatS),
          PANDA_PILOT_MEMORY_MB: String(spec.memoryMb),
          PANDA_PILOT_CORES: String(spec.cores),
          // No PANDA_PILOT_WALLTIME_S: a local process has no batch time limit, and offering the
          // queue's maxtime minus the seconds already spent would refuse jobs asking for maxtime.
          ...spec.env,
          ...handed,
        },
      });
      // Listen before any await: a short-lived pilot may exit right after 'spawn'.
      entry = { pid: child.pid ?? 0, killRequested: false, foreign: false };
      const e = entry;
      e.exited = new Promise((resolve) => {
        child.once('exit', (code, signal) => {
          // The shell may have died first (e.g. of our SIGTERM) while the pilot still reports:
          // the worker has ended only when its whole process group is gone.
          void groupGone(e.pid).then(() => {
            e.exit = { code, signal };
            this.o.logger.info({ workerId: spec.workerId, pid: e.pid, code, signal }, 'pilot exited');
            resolve();
            this.o.onExit?.();
          });
        });
      });
      await once(child, 'spawn');
    } finally {
      await log.close();
    }
    const { pid } = entry;
    this.processes.set(spec.workerId, entry);
    this.o.logger.info({ workerId: spec.workerId, queue: spec.queue, pid, dir }, 'pilot started');
    return {
      batchId: String(pid),
      state: 'running',
      nativeStatus: 'spawned',
      walltimeS: 0,
      logUrl: this.logUrl(spec.workerId),
    };
  }

  /** `file://` URL of the worker's pilot.log (absolute, even for a relative workDir). */
  logUrl(workerId: string): string {
    return fileLogUrl(join(this.workerDir(workerId), PILOT_LOG));
  }

  async check(workers: WorkerRef[]): Promise<WorkerStatus[]> {
    return workers.map((w) => this.status(w));
  }

  private status(worker: WorkerRef): WorkerStatus {
    const { workerId } = worker;
    const pid = Number(worker.batchId);
    if (!worker.batchId || !Number.isInteger(pid) || pid <= 0) {
      return { workerId, state: 'missed', nativeStatus: 'no pid', diag: 'worker was never started' };
    }
    const entry = this.processes.get(workerId);
    if (!entry || entry.foreign) {
      if (groupAlive(pid))
        return { workerId, state: 'running', nativeStatus: `pid ${pid} alive (earlier harvester)` };
      if (entry?.killRequested)
        return { workerId, state: 'cancelled', nativeStatus: 'gone', diag: 'killed by harvester' };
      return {
        workerId,
        state: 'missed',
        nativeStatus: 'gone',
        diag: 'pilot process gone; exit status unknown',
      };
    }
    if (!entry.exit) return { workerId, state: 'running', nativeStatus: `pid ${pid} alive` };
    const { code, signal } = entry.exit;
    const nativeStatus = signal ? `killed by ${signal}` : `exited ${code}`;
    const logHint = `see ${join(this.workerDir(workerId), PILOT_LOG)}`;
    if (entry.killRequested) {
      return {
        workerId,
        state: 'cancelled',
        exitCode: code ?? undefined,
        nativeStatus,
        diag: 'killed by harvester',
      };
    }
    if (code === 0) return { workerId, state: 'finished', exitCode: 0, nativeStatus };
    const diag = signal
      ? `pilot killed by ${signal} (${logHint})`
      : `pilot exited with code ${code} (${logHint})`;
    return { workerId, state: 'failed', exitCode: code ?? -1, nativeStatus, diag };
  }

  async kill(worker: WorkerRef): Promise<void> {
    let entry = this.processes.get(worker.workerId);
    if (!entry) {
      const pid = Number(worker.batchId);
      if (!Number.isInteger(pid) || pid <= 0) return;
      entry = { pid, killRequested: false, foreign: true };
      this.processes.set(worker.workerId, entry);
    }
    if (entry.exit) return;
    entry.killRequested = true;
    signalGroup(entry.pid, 'SIGTERM');
  }

  async sweep(worker: WorkerRef): Promise<void> {
    this.processes.delete(worker.workerId);
    await rm(this.workerDir(worker.workerId), { recursive: true, force: true });
  }

  /** Pilots started by this process that have not exited. */
  liveWorkerIds(): string[] {
    return [...this.processes].filter(([, p]) => !p.foreign && !p.exit).map(([id]) => id);
  }

  /**
   * Shutdown: SIGTERM every live pilot (each then fails its job and reports), wait up to
   * `timeoutMs`, SIGKILL the rest. They are reported `cancelled` by `check`.
   */
  async stopAll(timeoutMs: number): Promise<void> {
    const live = [...this.processes.values()].filter((p) => !p.foreign && !p.exit);
    if (live.length === 0) return;
    this.o.logger.info({ pilots: live.length }, 'stopping local pilots');
    for (const p of live) {
      p.killRequested = true;
      signalGroup(p.pid, 'SIGTERM');
    }
    const waitAll = Promise.all(live.map((p) => p.exited));
    const ac = new AbortController();
    const inTime = await Promise.race([
      waitAll.then(() => true),
      sleep(timeoutMs, false, { signal: ac.signal }).catch(() => false),
    ]);
    ac.abort();
    if (inTime) return;
    const stuck = live.filter((p) => !p.exit);
    this.o.logger.warn({ pids: stuck.map((p) => p.pid) }, 'pilots did not stop in time; killing them');
    for (const p of stuck) signalGroup(p.pid, 'SIGKILL');
    // Killed orphans are reaped by init, which can take a moment.
    await Promise.race([waitAll, sleep(3000)]);
  }
}

/** Signals the worker's process group (the shell and the pilot; payloads have their own). */
function signalGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    // already gone
  }
}

/** Whether any process of the group led by `pid` is still there. */
function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function groupGone(pid: number, pollMs = 100): Promise<void> {
  while (groupAlive(pid)) await sleep(pollMs);
}
