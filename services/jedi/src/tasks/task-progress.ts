import type { Outbox, Sql } from '@panda/platform';
import { InputsDone } from '@panda/proto';
import type { InputRow } from '../inputs/input-row.js';
import { finalTaskState } from './task-state.js';
import type { TaskState } from './task-state.js';
import type { TaskRow } from './task-store.js';
import { moveTask } from './task-store.js';

/** Task states in which released inputs get jobs at once. */
export const ACCEPTS_NEW_JOBS: ReadonlySet<TaskState> = new Set<TaskState>([
  'ready',
  'running',
  'pending',
  'scouting',
]);
/** Task states in which released inputs wait (`ready`) for a resume or retry. */
export const HOLDS_NEW_JOBS: ReadonlySet<TaskState> = new Set<TaskState>([
  'registered',
  'defined',
  'paused',
  'throttled',
  'toretry',
]);

export interface Settled {
  input: InputRow;
  status: 'finished' | 'failed';
  pandaId: number;
  exitCode: number;
}

/**
 * Inputs reached their outcome: record it, count it on the task (row locked by the caller),
 * tell idds (`panda.input.done`), and close the task if nothing is left.
 */
export async function settleInputs(
  sql: Sql,
  outbox: Outbox,
  task: TaskRow,
  settled: Settled[],
): Promise<TaskRow> {
  if (settled.length === 0) return task;
  await sql.query(
    `UPDATE jedi.task_inputs SET state = u.s, modified_at = now()
     FROM unnest($1::bigint[], $2::text[]) AS u(i, s) WHERE input_id = u.i`,
    [settled.map((s) => s.input.input_id), settled.map((s) => s.status)],
  );
  const finished = settled.filter((s) => s.status === 'finished').length;
  const [counted] = await sql.query<TaskRow>(
    `UPDATE jedi.tasks SET inputs_finished = inputs_finished + $2, inputs_failed = inputs_failed + $3,
       modified_at = now() WHERE task_id = $1 RETURNING *`,
    [task.task_id, finished, settled.length - finished],
  );
  await outbox.write(sql, [
    {
      subject: 'panda.input.done',
      payload: InputsDone.encode({
        workflowId: Number(task.workflow_id),
        taskId: Number(task.task_id),
        results: settled.map((s) => ({
          nodeId: Number(s.input.node_id),
          status: s.status,
          pandaId: s.pandaId,
          exitCode: s.exitCode,
          attempts: s.input.attempt_nr,
        })),
      }).finish(),
    },
  ]);
  return closeTaskIfDone(sql, outbox, counted!);
}

const CLOSABLE: ReadonlySet<TaskState> = new Set<TaskState>([
  'ready',
  'running',
  'pending',
  'scouting',
  'finishing',
]);

/**
 * Once every input is finished, failed or missing: an aborting task is aborted; otherwise
 * prepared, then done / finished / failed by the PostProcessor rule.
 */
export async function closeTaskIfDone(sql: Sql, outbox: Outbox, t: TaskRow): Promise<TaskRow> {
  if (t.inputs_finished + t.inputs_failed + t.inputs_missing < t.inputs_total) return t;
  if (t.state === 'aborting') return moveTask(sql, outbox, t, 'aborted');
  if (!CLOSABLE.has(t.state)) return t;
  const prepared = await moveTask(sql, outbox, t, 'prepared');
  return moveTask(sql, outbox, prepared, finalTaskState(t.inputs_total, t.inputs_finished));
}
