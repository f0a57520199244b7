/** Everything the adjuster looks at for one queue in one cycle. */
export interface AdjusterInput {
  /** Queue status from the catalogue; only `online` queues get workers. */
  status: string;
  /** `pull` (pilots ask for jobs) or `push`. */
  mode: string;
  /** Activated jobs waiting in the queue. */
  activated: number;
  /** Workers of this queue in `submitted`. */
  queued: number;
  /** Workers of this queue in `running` or `idle`. */
  running: number;
  nQueueLimitWorker: number;
  /** 0 means no cap. */
  maxWorkers: number;
  /** 0 means no cap. */
  maxNewWorkersPerCycle: number;
  /** How many more workers the global cap allows right now. */
  globalRemaining: number;
}

/** What bound the adjuster's answer (the first cap that lowered it to its final value). */
export type AdjusterBound =
  | 'status'
  | 'no_activated_jobs'
  | 'n_queue_limit_worker'
  | 'activated_jobs'
  | 'max_workers'
  | 'max_new_workers_per_cycle'
  | 'max_workers_total';

export interface AdjusterDecision {
  /** New workers to submit this cycle. */
  n: number;
  boundBy: AdjusterBound;
  /** The same in words, with the numbers. */
  reason: string;
}

/**
 * How many new workers to submit to a queue this cycle, after Harvester's WorkerAdjuster
 * (`harvesterbody/worker_adjuster.py`, reference §1.4) with activateWorkerFactor 1 and
 * noPilotsWhenNoActiveJobs:
 *
 * 1. 0 if the queue is not online or has no activated jobs;
 * 2. maxQueued = nQueueLimitWorker, lowered in pull mode to the activated jobs;
 * 3. n = max(maxQueued - queued, 0), capped by maxWorkers - queued - running,
 *    maxNewWorkersPerCycle and the global cap.
 *
 * Also says which of these bound the answer.
 */
export function adjust(input: AdjusterInput): AdjusterDecision {
  const whole = (x: number) => Math.max(0, Math.floor(Number.isFinite(x) ? x : 0));
  if (input.status !== 'online')
    return { n: 0, boundBy: 'status', reason: `queue is ${input.status || 'without status'}, not online` };
  const activated = whole(input.activated);
  if (activated === 0) return { n: 0, boundBy: 'no_activated_jobs', reason: 'no activated jobs' };
  const queued = whole(input.queued);
  const running = whole(input.running);

  const limit = whole(input.nQueueLimitWorker);
  let maxQueued = limit;
  let boundBy: AdjusterBound = 'n_queue_limit_worker';
  let reason = `nQueueLimitWorker ${limit} - ${queued} queued`;
  if (input.mode === 'pull' && activated < limit) {
    maxQueued = activated;
    boundBy = 'activated_jobs';
    reason = `${activated} activated jobs (pull) - ${queued} queued`;
  }
  let n = Math.max(maxQueued - queued, 0);
  const cap = (value: number, bound: AdjusterBound, why: string) => {
    if (value < n) {
      n = value;
      boundBy = bound;
      reason = why;
    }
  };
  if (input.maxWorkers > 0) {
    const maxWorkers = whole(input.maxWorkers);
    cap(
      Math.max(maxWorkers - queued - running, 0),
      'max_workers',
      `maxWorkers ${maxWorkers} - ${queued} queued - ${running} running`,
    );
  }
  if (input.maxNewWorkersPerCycle > 0) {
    const perCycle = whole(input.maxNewWorkersPerCycle);
    cap(perCycle, 'max_new_workers_per_cycle', `maxNewWorkersPerCycle ${perCycle}`);
  }
  const global = whole(input.globalRemaining);
  cap(global, 'max_workers_total', `${global} left under the harvester's total cap`);
  return { n, boundBy, reason: `${n} new: ${reason}` };
}

/** `adjust(input).n`. */
export function newWorkerCount(input: AdjusterInput): number {
  return adjust(input).n;
}
