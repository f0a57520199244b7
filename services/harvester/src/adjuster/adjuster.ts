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

/**
 * How many new workers to submit to a queue this cycle, after Harvester's WorkerAdjuster
 * (`harvesterbody/worker_adjuster.py`, reference §1.4) with activateWorkerFactor 1 and
 * noPilotsWhenNoActiveJobs:
 *
 * 1. 0 if the queue is not online or has no activated jobs;
 * 2. maxQueued = nQueueLimitWorker, lowered in pull mode to the activated jobs;
 * 3. n = max(maxQueued - queued, 0), capped by maxWorkers - queued - running,
 *    maxNewWorkersPerCycle and the global cap.
 */
export function newWorkerCount(input: AdjusterInput): number {
  const whole = (x: number) => Math.max(0, Math.floor(Number.isFinite(x) ? x : 0));
  if (input.status !== 'online') return 0;
  const activated = whole(input.activated);
  if (activated === 0) return 0;
  const queued = whole(input.queued);
  const running = whole(input.running);

  let maxQueued = whole(input.nQueueLimitWorker);
  if (input.mode === 'pull') maxQueued = Math.min(maxQueued, activated);

  let n = Math.max(maxQueued - queued, 0);
  if (input.maxWorkers > 0) n = Math.min(n, Math.max(whole(input.maxWorkers) - queued - running, 0));
  if (input.maxNewWorkersPerCycle > 0) n = Math.min(n, whole(input.maxNewWorkersPerCycle));
  return Math.min(n, whole(input.globalRemaining));
}
