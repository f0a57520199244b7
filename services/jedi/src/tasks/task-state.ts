import { TransitionTable } from '@panda/platform';

/**
 * JEDI task lifecycle, same names in code, database and API.
 * registered -> ready -> running -> prepared -> done (every input ok) | finished (some) | failed (none);
 * pending (with a reason), paused, throttled, exhausted, finishing, aborting/aborted and toretry
 * are reached by commands and brokerage. Nothing leaves done or aborted except a workflow
 * restart (toretry), which the task command `retry` does not allow.
 */
export type TaskState =
  | 'registered'
  | 'defined'
  | 'ready'
  | 'pending'
  | 'scouting'
  | 'running'
  | 'prepared'
  | 'done'
  | 'finished'
  | 'failed'
  | 'paused'
  | 'throttled'
  | 'exhausted'
  | 'finishing'
  | 'aborting'
  | 'aborted'
  | 'toretry';

export const taskStates = new TransitionTable<TaskState>('task', {
  registered: ['defined', 'ready', 'aborting'],
  defined: ['ready', 'pending', 'aborting'],
  ready: ['running', 'scouting', 'pending', 'paused', 'throttled', 'prepared', 'finishing', 'aborting'],
  pending: ['ready', 'running', 'paused', 'aborting'],
  scouting: ['running', 'pending', 'paused', 'exhausted', 'finishing', 'aborting'],
  running: ['prepared', 'pending', 'paused', 'throttled', 'exhausted', 'finishing', 'aborting'],
  paused: ['ready', 'running', 'pending', 'aborting'],
  throttled: ['ready', 'running', 'paused', 'aborting'],
  finishing: ['prepared', 'aborting'],
  prepared: ['done', 'finished', 'failed'],
  exhausted: ['toretry', 'aborting'],
  finished: ['toretry'],
  failed: ['toretry'],
  toretry: ['ready'],
  aborting: ['aborted'],
  // A workflow restart may re-run inputs of a done or aborted task.
  done: ['toretry'],
  aborted: ['toretry'],
});

/** PostProcessor verdict: done = every input ok, finished = some ok, failed = none ok. */
export function finalTaskState(total: number, finished: number): 'done' | 'finished' | 'failed' {
  if (finished === total) return 'done';
  return finished > 0 ? 'finished' : 'failed';
}
