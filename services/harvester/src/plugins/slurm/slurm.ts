import { mkdir, open, rm, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { basename, join, resolve } from 'node:path';
import type { Logger } from '@panda/platform';
import { fileLogUrl, logUrlFile } from '../log-url.js';
import { handOver } from '../push-file.js';
import { chunks, runCommand } from '../run.js';
import type { SubmitResult, SubmitterPlugin, WorkerRef, WorkerSpec, WorkerStatus } from '../types.js';
import { WORKER_OOM_ERROR } from '../types.js';
import {
  DEFAULT_SLURM_TEMPLATE,
  parseBatchId,
  parseSlurmTime,
  renderSlurmScript,
  sbatchOption,
  slurmOutputFile,
  slurmParamsSchema,
} from './script.js';
import { isSlurmOom, parseScontrolJob, slurmMemoryKill, slurmWorkerState } from './states.js';

export interface SlurmSubmitterOptions {
  /** Shell command starting a pilot (`exec`-ed by the batch script). */
  command: string;
  /** Workers run in `<workDir>/workers/<workerId>` (must be visible on the compute nodes). */
  workDir: string;
  gatewayUrl: string;
  heartbeatS: number;
  /** Environment of sbatch/squeue/scancel (e.g. SLURM_CONF); sbatch passes it on to the job. */
  baseEnv: NodeJS.ProcessEnv;
  logger: Logger;
  /** Job ids per squeue call (reference: 100). */
  chunkSize?: number;
}

/** sbatch refused the worker (non-zero exit: a permanent failure, reference §3). */
export class SbatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SbatchError';
  }
}

/**
 * Slurm submitter, monitor and sweeper: one batch job per worker from a script template,
 * status by `squeue -t all` in chunks (plus `scontrol show job` for the exit code of ended
 * jobs), `scancel` to kill, the worker folder removed by sweep.
 */
export class SlurmSubmitter implements SubmitterPlugin {
  readonly name = 'slurm';
  readonly supportsPush = true;

  constructor(private readonly o: SlurmSubmitterOptions) {}

  workerDir(workerId: string): string {
    return join(this.o.workDir, 'workers', workerId);
  }

  async submit(spec: WorkerSpec, signal?: AbortSignal): Promise<SubmitResult> {
    const params = slurmParamsSchema.parse(spec.params);
    const dir = this.workerDir(spec.workerId);
    await mkdir(dir, { recursive: true });
    const handed = await handOver(spec, dir);
    const script = renderSlurmScript(params.template ?? DEFAULT_SLURM_TEMPLATE, {
      workerID: spec.workerId,
      pandaQueueName: spec.queue,
      partition: params.partition,
      requestRam: spec.memoryMb,
      nCoreTotal: spec.cores,
      requestWalltime: spec.walltimeS,
      accessPoint: dir,
      pilotCommand: this.o.command,
      env: {
        PANDA_PILOT_QUEUE: spec.queue,
        PANDA_PILOT_GATEWAY_URL: this.o.gatewayUrl,
        PANDA_PILOT_WORKER_ID: spec.workerId,
        PANDA_PILOT_WORK_DIR: dir,
        PANDA_PILOT_HEARTBEAT_S: String(this.o.heartbeatS),
        PANDA_PILOT_MEMORY_MB: String(spec.memoryMb),
        PANDA_PILOT_CORES: String(spec.cores),
        ...spec.env,
        ...handed,
      },
    });
    const file = join(dir, 'submit.sh');
    // Owner-only: the script holds the worker's token.
    await writeFile(file, script, { mode: 0o700 });
    const res = await runCommand('sbatch', ['-D', dir, ...params.sbatchArgs, file], {
      env: this.o.baseEnv,
      signal,
    });
    const batchId = res.code === 0 ? parseBatchId(res.stdout) : undefined;
    if (!batchId) {
      throw new SbatchError(`sbatch exited ${res.code}: ${(res.stderr || res.stdout).trim().slice(0, 300)}`);
    }
    const output = this.outputFile(dir, file, script, params.sbatchArgs, batchId);
    const time = sbatchOption(script, params.sbatchArgs, 'time', 't');
    this.o.logger.info(
      { workerId: spec.workerId, queue: spec.queue, batchId, dir, output },
      'slurm job submitted',
    );
    return {
      batchId,
      state: 'submitted',
      nativeStatus: 'PENDING',
      // No --time: the partition's default limit, unknown here (0).
      walltimeS: time === undefined ? 0 : (parseSlurmTime(time) ?? 0),
      logUrl: fileLogUrl(output),
    };
  }

  /** The job's output file, from --output as sbatch takes it (default slurm-%j.out in `dir`). */
  private outputFile(dir: string, file: string, script: string, args: string[], jobId: string): string {
    return slurmOutputFile(resolve(dir), sbatchOption(script, args, 'output', 'o'), {
      jobId,
      jobName: sbatchOption(script, args, 'job-name', 'J') ?? basename(file),
      user: currentUser(this.o.baseEnv),
    });
  }

  async check(workers: WorkerRef[], signal?: AbortSignal): Promise<WorkerStatus[]> {
    const withId = workers.filter((w) => /^\d+$/.test(w.batchId));
    const states = new Map<string, { state: string; reason: string }>();
    for (const part of chunks(withId, this.o.chunkSize ?? 100)) {
      const res = await runCommand(
        'squeue',
        ['-h', '-t', 'all', '-o', '%i|%T|%r', '-j', part.map((w) => w.batchId).join(',')],
        { env: this.o.baseEnv, signal },
      );
      if (res.code !== 0 && !/Invalid job id/i.test(res.stderr)) {
        throw new Error(`squeue exited ${res.code}: ${res.stderr.trim().slice(0, 300)}`);
      }
      for (const line of res.stdout.split('\n')) {
        const [id, state, reason] = line.trim().split('|');
        if (id && state) states.set(id, { state, reason: reason ?? '' });
      }
    }
    const out: WorkerStatus[] = [];
    for (const w of workers) out.push(await this.status(w, states.get(w.batchId), signal));
    return out;
  }

  private async status(
    w: WorkerRef,
    seen: { state: string; reason: string } | undefined,
    signal?: AbortSignal,
  ): Promise<WorkerStatus> {
    const { workerId } = w;
    if (!/^\d+$/.test(w.batchId))
      return { workerId, state: 'missed', nativeStatus: 'no batch id', diag: 'worker was never submitted' };
    if (!seen) {
      return {
        workerId,
        state: 'missed',
        nativeStatus: 'unknown to Slurm',
        diag: `Slurm job ${w.batchId} is no longer known (purged after MinJobAge); its end is unknown`,
      };
    }
    const state = slurmWorkerState(seen.state);
    if (state === 'submitted' || state === 'running') return { workerId, state, nativeStatus: seen.state };
    const detail = await runCommand('scontrol', ['show', 'job', '-o', w.batchId], {
      env: this.o.baseEnv,
      signal,
    });
    const job = detail.code === 0 ? parseScontrolJob(detail.stdout) : {};
    const outputFile = logUrlFile(w.logUrl) ?? join(this.workerDir(workerId), `slurm-${w.batchId}.out`);
    const output = await tail(outputFile);
    const nativeStatus = `${seen.state}${job.reason && job.reason !== 'None' ? ` (${job.reason})` : ''}`;
    const logHint = `see ${outputFile}`;
    const exit = `${job.exitCode ?? '?'}:${job.signal ?? '?'}`;
    if (isSlurmOom(seen.state, output)) {
      // Without cgroups slurmstepd SIGKILLs the whole batch step, pilot included: the pilot
      // cannot report, so the worker's end carries the cause (server fails its jobs with it).
      const kill = slurmMemoryKill(output);
      const measured = kill ? `: ${kill.step} used ${kill.usedMb} MB > limit ${kill.limitMb} MB` : '';
      return {
        workerId,
        state: 'failed',
        exitCode: exitStatus(job),
        errorCode: WORKER_OOM_ERROR,
        nativeStatus,
        diag:
          `[sup ${WORKER_OOM_ERROR} WORKEROOM] Slurm job ${w.batchId} exceeded its memory limit${measured}; ` +
          `ended ${nativeStatus}, exit ${exit} (${logHint})`,
      };
    }
    if (state === 'finished') return { workerId, state, exitCode: job.exitCode ?? 0, nativeStatus };
    if (state === 'cancelled')
      return {
        workerId,
        state,
        exitCode: exitStatus(job),
        nativeStatus,
        diag: `Slurm job ${w.batchId} cancelled`,
      };
    return {
      workerId,
      state,
      exitCode: exitStatus(job),
      nativeStatus,
      diag: `Slurm job ${w.batchId} ended ${nativeStatus}, exit ${exit} (${logHint})`,
    };
  }

  async kill(worker: WorkerRef): Promise<void> {
    if (!/^\d+$/.test(worker.batchId)) return;
    const res = await runCommand('scancel', [worker.batchId], { env: this.o.baseEnv });
    if (res.code !== 0) this.o.logger.warn({ worker, stderr: res.stderr.trim() }, 'scancel failed');
  }

  async sweep(worker: WorkerRef): Promise<void> {
    await rm(this.workerDir(worker.workerId), { recursive: true, force: true });
  }
}

/** A shell-style exit status from scontrol's `ExitCode=code:signal` (signal n: 128 + n, e.g. 137). */
function exitStatus(job: { exitCode?: number; signal?: number }): number | undefined {
  return job.signal ? 128 + job.signal : job.exitCode;
}

/** The user sbatch runs as (`%u` in an output pattern); `USER` of its environment as a fallback. */
function currentUser(env: NodeJS.ProcessEnv): string {
  try {
    return userInfo().username;
  } catch {
    return env['USER'] ?? '';
  }
}

/** The last 8 kB of a file ('' if missing). */
async function tail(path: string): Promise<string> {
  try {
    const f = await open(path, 'r');
    try {
      const { size } = await f.stat();
      const length = Math.min(size, 8192);
      const buf = Buffer.alloc(length);
      await f.read(buf, 0, length, size - length);
      return buf.toString('utf8');
    } finally {
      await f.close();
    }
  } catch {
    return '';
  }
}
