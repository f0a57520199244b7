import type { Logger } from '@panda/platform';
import type { PilotOptions } from './config.js';
import type { GetJobRequest, JobUpdate, LogBatchJson, PilotJob, UpdateReply } from './gateway/types.js';
import { PilotErrorCodes } from './job/error-codes.js';
import { readJobFile } from './job/job-file.js';
import { memoryLimit } from './job/limits.js';
import type { JobLimits } from './job/limits.js';
import { runJob } from './job/run-job.js';
import type { JobOutcome } from './job/run-job.js';

export interface PilotGateway {
  getJob(request: GetJobRequest, signal?: AbortSignal): Promise<PilotJob | null>;
  updateJob(update: JobUpdate, signal?: AbortSignal): Promise<UpdateReply>;
  postLogs?(batch: LogBatchJson): Promise<void>;
  uploadArchive?(pandaId: number, name: string, content: Buffer): Promise<void>;
}

export interface PilotDeps {
  options: PilotOptions;
  gateway: PilotGateway;
  logger: Logger;
  node: string;
  /** Aborted when the pilot must stop; its reason is the signal name. */
  stop: AbortSignal;
  echo?: (line: string) => void;
  now?: () => number;
  /** The pilot's own log file (its stdout, as harvester writes it), for the job archives. */
  pilotLogFile?: string;
}

export interface PilotSummary {
  jobs: { pandaId: number; outcome: JobOutcome }[];
  /** Why the loop ended. */
  reason:
    | 'nojob'
    | 'maxjobs'
    | 'walltime'
    | 'stopped'
    | 'gateway'
    | 'idle'
    | 'lostheartbeat'
    /** The push job file could not be read: the worker fails, and with it the job at the server. */
    | 'jobfile';
}

/** The limits of one job from its description and the pilot's options. */
export function jobLimits(options: PilotOptions, job: PilotJob, remainingWalltimeS: number): JobLimits {
  const limits: JobLimits = memoryLimit(job.memoryMb, options.memoryMb, options.memoryGrace);
  if (options.memoryCgroup) {
    const grace = options.cgroupMemoryGrace > 0 ? options.cgroupMemoryGrace : options.memoryGrace;
    limits.cgroupMemoryKb = memoryLimit(job.memoryMb, options.memoryMb, grace).memoryKb;
  }
  if (job.walltimeS > 0) limits.walltimeMs = job.walltimeS * 1000 * (1 + options.walltimeGracePct / 100);
  else if (remainingWalltimeS > 0) limits.walltimeMs = remainingWalltimeS * 1000;
  if (options.loopingLimitS > 0) limits.loopingMs = options.loopingLimitS * 1000;
  if (options.lostHeartbeatS > 0) limits.lostHeartbeatMs = options.lostHeartbeatS * 1000;
  return limits;
}

/** Seconds of walltime below which the pilot asks for no further job. */
const MIN_WALLTIME_S = 60;

/**
 * Runs the job handed over in `jobFile` first (push mode, no getJob), then asks for jobs and
 * runs them one after the other until none is left or a limit is hit.
 */
export async function runPilot(deps: PilotDeps): Promise<PilotSummary> {
  const { options, gateway, logger } = deps;
  const now = deps.now ?? Date.now;
  const started = now();
  const jobs: PilotSummary['jobs'] = [];
  const done = (reason: PilotSummary['reason']): PilotSummary => {
    logger.info({ reason, jobs: jobs.length }, 'pilot done');
    return { jobs, reason };
  };

  const remaining = (): number =>
    options.walltimeS > 0 ? Math.floor(options.walltimeS - (now() - started) / 1000) : 0;
  const run = async (job: PilotJob, remainingWalltimeS: number, getjobS: number): Promise<JobOutcome> => {
    logger.info({ pandaId: job.pandaId, attemptNr: job.attemptNr, name: job.name }, 'got job');
    const outcome = await runJob(
      {
        gateway,
        logger,
        workDir: options.workDir,
        node: deps.node,
        workerId: options.workerId,
        heartbeatMs: options.heartbeatS * 1000,
        killGraceMs: options.killGraceS * 1000,
        stop: deps.stop,
        echo: deps.echo,
        limits: jobLimits(options, job, remainingWalltimeS),
        monitorIntervalMs: options.monitorIntervalS * 1000,
        checkIntervalMs: options.checkIntervalS * 1000,
        realtimeLogs: options.realtimeLogs
          ? { files: logFileList(options.logFiles), pollMs: options.logPollMs }
          : undefined,
        archive: true,
        pilotLogFile: deps.pilotLogFile,
        getjobS,
        memoryCgroup: options.memoryCgroup || undefined,
      },
      job,
    );
    jobs.push({ pandaId: job.pandaId, outcome });
    return outcome;
  };

  // Push mode: harvester already acquired the job (it is `starting`) and handed it over in a file.
  if (options.jobFile) {
    let job: PilotJob;
    try {
      job = await readJobFile(options.jobFile);
    } catch (err) {
      logger.error({ err: (err as Error).message }, 'cannot run the job handed over by harvester');
      return done('jobfile');
    }
    logger.info({ pandaId: job.pandaId, file: options.jobFile }, 'job handed over by harvester');
    const outcome = await run(job, remaining(), 0);
    if (outcome.errorCode === PilotErrorCodes.LOST_HEARTBEAT) return done('lostheartbeat');
  }

  let lastJobAt = options.jobFile ? now() : started;
  for (;;) {
    if (deps.stop.aborted) return done('stopped');
    if (options.waitS > 0 && options.idleS > 0 && now() - lastJobAt > options.idleS * 1000) {
      return done('idle');
    }
    if (options.maxJobs > 0 && jobs.length >= options.maxJobs) return done('maxjobs');
    const remainingWalltimeS = remaining();
    if (options.walltimeS > 0 && remainingWalltimeS < MIN_WALLTIME_S) return done('walltime');

    let job: PilotJob | null;
    const askedAt = now();
    try {
      job = await gateway.getJob(
        {
          queue: options.queue,
          node: deps.node,
          memoryMb: options.memoryMb,
          cores: options.cores,
          remainingWalltimeS,
          workerId: options.workerId,
          ...(options.waitS > 0 ? { waitS: options.waitS } : {}),
        },
        deps.stop,
      );
    } catch (err) {
      if (deps.stop.aborted) return done('stopped');
      logger.error({ err }, 'getJob failed');
      return done('gateway');
    }
    if (!job) {
      if (options.waitS > 0) continue; // push mode: ask again, the gateway holds the call
      return done('nojob');
    }
    lastJobAt = now();
    const outcome = await run(job, remainingWalltimeS, (now() - askedAt) / 1000);
    if (outcome.errorCode === PilotErrorCodes.LOST_HEARTBEAT) return done('lostheartbeat');
  }
}

function logFileList(text: string): string[] {
  return text
    .split(/[,:]/)
    .map((f) => f.trim())
    .filter((f) => f.length > 0 && !f.includes('/'));
}
