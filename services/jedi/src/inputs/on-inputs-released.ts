import type { Outbox, Sql } from '@panda/platform';
import type { InputsReleased } from '@panda/proto';
import type { TaskRow } from '../tasks/task-store.js';
import { ACCEPTS_NEW_JOBS, HOLDS_NEW_JOBS, settleInputs } from '../tasks/task-progress.js';
import type { InputRow } from './input-row.js';
import type { JobGenerator } from './job-generator.js';

/**
 * idds released some inputs of a task: make the first job for each (brokered). A paused
 * task keeps them `ready` until resumed; a task being killed or finished fails them at once
 * so the workflow can settle. Inputs already released (a redelivered event) are left alone.
 */
export function onInputsReleased(outbox: Outbox, generator: JobGenerator) {
  return async (sql: Sql, event: InputsReleased): Promise<void> => {
    const [task] = await sql.query<TaskRow>(`SELECT * FROM jedi.tasks WHERE task_id = $1 FOR UPDATE`, [
      event.taskId,
    ]);
    if (!task) throw new Error(`task ${event.taskId} of released inputs is unknown`);
    // Read, not yet moved: each input is written once, to `picked` by the generator (or
    // `ready` when it waits, `failed` when the task winds down).
    const inputs = await sql.query<InputRow>(
      `SELECT * FROM jedi.task_inputs WHERE task_id = $1 AND node_id = ANY($2::bigint[]) AND state = 'defined'
       ORDER BY input_id FOR UPDATE`,
      [event.taskId, event.nodeIds],
    );
    if (inputs.length === 0) return;
    if (ACCEPTS_NEW_JOBS.has(task.state)) {
      await generator.generate(
        sql,
        task,
        inputs.map((input) => ({ input, attemptNr: input.attempt_nr + 1 })),
      );
    } else if (HOLDS_NEW_JOBS.has(task.state)) {
      await sql.query(
        `UPDATE jedi.task_inputs SET state = 'ready', modified_at = now() WHERE input_id = ANY($1::bigint[])`,
        [inputs.map((i) => i.input_id)],
      );
    } else {
      await settleInputs(
        sql,
        outbox,
        task,
        inputs.map((i) => ({ input: i, status: 'failed', pandaId: 0, exitCode: 0 })),
      );
    }
  };
}
