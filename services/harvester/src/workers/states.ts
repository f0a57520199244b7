import { TransitionTable } from '@panda/platform';

/**
 * A worker (one pilot in a batch system):
 * - `submitted`: handed to the batch system, not started yet;
 * - `running`: the pilot runs; `idle`: it is there but not doing anything;
 * - `finished`: exited 0; `failed`: exited otherwise; `cancelled`: killed by harvester;
 * - `missed`: submission failed, or the worker was lost and its end is unknown.
 * A worker never goes back to `submitted`; the last four are final.
 */
export type WorkerState = 'submitted' | 'running' | 'idle' | 'finished' | 'failed' | 'cancelled' | 'missed';

export const FINAL_WORKER_STATES = [
  'finished',
  'failed',
  'cancelled',
  'missed',
] as const satisfies WorkerState[];
export const ACTIVE_WORKER_STATES = ['submitted', 'running', 'idle'] as const satisfies WorkerState[];

const ENDINGS = FINAL_WORKER_STATES;

export const workerTransitions = new TransitionTable<WorkerState>('worker', {
  submitted: ['running', 'idle', ...ENDINGS],
  running: ['idle', ...ENDINGS],
  idle: ['running', ...ENDINGS],
  finished: [],
  failed: [],
  cancelled: [],
  missed: [],
});

export const isWorkerState = (value: string): value is WorkerState => workerTransitions.isState(value);
