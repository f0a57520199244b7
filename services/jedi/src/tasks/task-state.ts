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
  // prepared: every input settled while the task waited (e.g. the rest was pruned).
  pending: ['ready', 'running', 'paused', 'prepared', 'finishing', 'aborting'],
  scouting: ['running', 'pending', 'paused', 'exhausted', 'prepared', 'finishing', 'aborting'],
  running: ['prepared', 'pending', 'paused', 'throttled', 'exhausted', 'finishing', 'aborting'],
  // finishing: the `finish` command (no new jobs, let the running ones end) works here too.
  paused: ['ready', 'running', 'pending', 'finishing', 'aborting'],
  throttled: ['ready', 'running', 'paused', 'finishing', 'aborting'],
  finishing: ['prepared', 'aborting'],
  prepared: ['done', 'finished', 'failed'],
  exhausted: ['toretry', 'finishing', 'aborting'],
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
