import type { Logger } from '@panda/platform';
import type { PilotOptions } from './config.js';
import type { GetJobRequest, JobUpdate, PilotJob, UpdateReply } from './gateway/types.js';
import { runJob } from './job/run-job.js';
import type { JobOutcome } from './job/run-job.js';

export interface PilotGateway {
  getJob(request: GetJobRequest, signal?: AbortSignal): Promise<PilotJob | null>;
  updateJob(update: JobUpdate): Promise<UpdateReply>;
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
}

export interface PilotSummary {
  jobs: { pandaId: number; outcome: JobOutcome }[];
  /** Why the loop ended. */
  reason: 'nojob' | 'maxjobs' | 'walltime' | 'stopped' | 'gateway';
}

/** Seconds of walltime below which the pilot asks for no further job. */
const MIN_WALLTIME_S = 60;

/** Asks for jobs and runs them one after the other until none is left or a limit is hit. */
export async function runPilot(deps: PilotDeps): Promise<PilotSummary> {
  const { options, gateway, logger } = deps;
  const now = deps.now ?? Date.now;
  const started = now();
  const jobs: PilotSummary['jobs'] = [];
  const done = (reason: PilotSummary['reason']): PilotSummary => {
    logger.info({ reason, jobs: jobs.length }, 'pilot done');
    return { jobs, reason };
  };

  for (;;) {
    if (deps.stop.aborted) return done('stopped');
    if (options.maxJobs > 0 && jobs.length >= options.maxJobs) return done('maxjobs');
    let remainingWalltimeS = 0;
    if (options.walltimeS > 0) {
      remainingWalltimeS = Math.floor(options.walltimeS - (now() - started) / 1000);
      if (remainingWalltimeS < MIN_WALLTIME_S) return done('walltime');
    }

    let job: PilotJob | null;
    try {
      job = await gateway.getJob(
        {
          queue: options.queue,
          node: deps.node,
          memoryMb: options.memoryMb,
          cores: options.cores,
          remainingWalltimeS,
          workerId: options.workerId,
        },
        deps.stop,
      );
    } catch (err) {
      if (deps.stop.aborted) return done('stopped');
      logger.error({ err }, 'getJob failed');
      return done('gateway');
    }
    if (!job) return done('nojob');

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
      },
      job,
    );
    jobs.push({ pandaId: job.pandaId, outcome });
  }
}
