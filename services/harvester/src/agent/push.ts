import type { DispatchServiceClient, Job, Queue } from '@panda/proto';
import type { PushedJob } from '../plugins/types.js';

/** The part of server's DispatchService harvester calls for push queues (tests pass a fake). */
export type DispatchClient = Pick<DispatchServiceClient, 'acquireJobs' | 'updateJobs'>;

/** The server did not move a pushed job to `starting`. */
export class PushError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PushError';
  }
}

/**
 * Push mode (harvester's side): one job of the queue is acquired for a worker that is about
 * to be submitted, moved to `starting` (it sits there until the worker's pilot runs it) and
 * handed to the worker at start as a file. The worker offers the queue's limits.
 */
export class JobPusher {
  constructor(
    private readonly dispatch: DispatchClient,
    private readonly node: string,
  ) {}

  /** Acquires one job (`sent`, held by `workerId`), or undefined when the queue has none. */
  async acquire(queue: Queue, workerId: string, signal?: AbortSignal): Promise<Job | undefined> {
    const { jobs } = await this.dispatch.acquireJobs(
      {
        queue: queue.name,
        nJobs: 1,
        node: this.node,
        memoryMb: queue.maxrssMb,
        cores: Math.max(queue.corecount, 1),
        remainingWalltimeS: queue.maxtimeS,
        workerId,
      },
      { signal },
    );
    return jobs[0];
  }

  /** Moves an acquired job to `starting`; throws PushError when the server refuses. */
  async markStarting(job: Job, workerId: string): Promise<void> {
    const { results } = await this.dispatch.updateJobs({
      updates: [
        {
          pandaId: job.pandaId,
          state: 'starting',
          attemptNr: job.attemptNr,
          exitCode: 0,
          errorCode: 0,
          errorDiag: '',
          node: this.node,
          workerId,
          errors: [],
          metrics: undefined,
        },
      ],
    });
    const result = results[0];
    if (result?.result !== 'ok') {
      throw new PushError(
        `server refused job ${job.pandaId} in starting: ${result?.result ?? 'no answer'} ${result?.message ?? ''}`.trim(),
      );
    }
  }
}

/**
 * A job moved to `starting`, as the gateway's getJob returns a Job: camelCase, timestamps as
 * ISO strings or null.
 */
export function pushedJob(job: Job): PushedJob {
  const iso = (d: Date | undefined) => (d ? d.toISOString() : null);
  return {
    pandaId: job.pandaId,
    json: {
      ...job,
      state: 'starting',
      createdAt: iso(job.createdAt),
      stateChangedAt: iso(job.stateChangedAt),
      startTime: iso(job.startTime),
      endTime: iso(job.endTime),
    },
  };
}
