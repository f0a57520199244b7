import { TransitionTable } from '@panda/platform';

/**
 * The job lifecycle, same names as in the database and the API.
 * - pending: generated, not released; defined: released, waiting for input;
 * - activated: can be given to a pilot; throttled: activated but held back;
 * - sent: claimed by a pilot; starting: pilot set up (or push worker queued); running: payload runs;
 * - holding: payload done, server post-processing; transferring: outputs moving;
 * - finished, failed, cancelled (killed by hand), closed (ended by the system before running): final.
 */
export type JobState =
  | 'pending'
  | 'defined'
  | 'activated'
  | 'throttled'
  | 'sent'
  | 'starting'
  | 'running'
  | 'holding'
  | 'transferring'
  | 'finished'
  | 'failed'
  | 'cancelled'
  | 'closed';

const ENDED = ['failed', 'cancelled', 'closed'] as const;

export const jobStates = new TransitionTable<JobState>('job', {
  pending: ['defined', 'activated', ...ENDED],
  defined: ['activated', 'throttled', ...ENDED],
  activated: ['throttled', 'sent', ...ENDED],
  throttled: ['activated', ...ENDED],
  sent: ['starting', 'running', ...ENDED],
  starting: ['running', 'holding', 'finished', ...ENDED],
  running: ['holding', 'transferring', 'finished', ...ENDED],
  holding: ['transferring', 'finished', ...ENDED],
  transferring: ['finished', ...ENDED],
  finished: [],
  failed: [],
  cancelled: [],
  closed: [],
});

/** States a pilot may report through UpdateJobs. */
export const PILOT_REPORTABLE: ReadonlySet<JobState> = new Set<JobState>([
  'starting',
  'running',
  'holding',
  'transferring',
  'finished',
  'failed',
]);

export const ACTIVE_STATES: readonly JobState[] = [
  'activated',
  'throttled',
  'sent',
  'starting',
  'running',
  'holding',
  'transferring',
];

/** Outcome of one pilot update, as the original dispatcher names them. */
export type UpdateResult = 'ok' | 'alreadydone' | 'badattemptnr' | 'notfound' | 'illegal';

export interface CurrentJob {
  state: JobState;
  attemptNr: number;
}

export interface RequestedUpdate {
  state: string;
  attemptNr: number;
}

/** What to do with one update: pure, so the rules are unit-tested apart from SQL. */
export type UpdateDecision =
  | { kind: 'refuse'; result: Exclude<UpdateResult, 'ok'>; message: string }
  | { kind: 'heartbeat' }
  | { kind: 'ignore'; message: string }
  | { kind: 'move'; to: JobState };

export function decideUpdate(current: CurrentJob | undefined, update: RequestedUpdate): UpdateDecision {
  if (!current) return { kind: 'refuse', result: 'notfound', message: 'no such job' };
  if (!jobStates.isState(update.state) || !PILOT_REPORTABLE.has(update.state)) {
    return {
      kind: 'refuse',
      result: 'illegal',
      message: `state '${update.state}' cannot be reported by a pilot`,
    };
  }
  if (update.attemptNr !== 0 && update.attemptNr !== current.attemptNr) {
    return {
      kind: 'refuse',
      result: 'badattemptnr',
      message: `attempt ${update.attemptNr} is not the job's current attempt ${current.attemptNr}`,
    };
  }
  if (jobStates.isFinal(current.state)) {
    return { kind: 'refuse', result: 'alreadydone', message: `job already ${current.state}` };
  }
  const to = update.state;
  if (to === current.state) return { kind: 'heartbeat' };
  // A late 'starting' after the job runs (or later) changes nothing, as in the original.
  if (to === 'starting' && ['running', 'holding', 'transferring'].includes(current.state)) {
    return { kind: 'ignore', message: `late 'starting' ignored in ${current.state}` };
  }
  if (
    (to === 'running' || to === 'starting') &&
    (current.state === 'holding' || current.state === 'transferring')
  ) {
    return { kind: 'ignore', message: `'${to}' ignored in ${current.state}` };
  }
  if (!jobStates.canMove(current.state, to)) {
    return { kind: 'refuse', result: 'illegal', message: `illegal transition ${current.state} -> ${to}` };
  }
  return { kind: 'move', to };
}
