import type { Outbox, Sql } from '@panda/platform';
import type { InputsReleased, JobServiceClient } from '@panda/proto';
import type { TaskRow } from '../tasks/task-store.js';
import { moveTask } from '../tasks/task-store.js';
import type { InputRow } from './input-row.js';
import { jobFor } from './input-row.js';
import { submitJobs } from './job-submitter.js';

/**
 * idds released some inputs of a task: make the first job for each. Inputs already picked
 * (a redelivered event) are left alone.
 */
export function onInputsReleased(outbox: Outbox, server: JobServiceClient) {
  return async (sql: Sql, event: InputsReleased): Promise<void> => {
    const [task] = await sql.query<TaskRow>(`SELECT * FROM jedi.tasks WHERE task_id = $1 FOR UPDATE`, [
      event.taskId,
    ]);
    if (!task) throw new Error(`task ${event.taskId} of released inputs is unknown`);
    const inputs = await sql.query<InputRow>(
      `SELECT * FROM jedi.task_inputs WHERE task_id = $1 AND node_id = ANY($2::bigint[]) AND state = 'defined'
       ORDER BY input_id FOR UPDATE`,
      [event.taskId, event.nodeIds],
    );
    if (inputs.length === 0) return;
    await submitJobs(
      sql,
      server,
      inputs.map((input) => jobFor(task, input, 1)),
    );
    if (task.state === 'ready' || task.state === 'pending') await moveTask(sql, outbox, task, 'running');
  };
}
