import type { Outbox, Sql } from '@panda/platform';
import type { InputsPruned } from '@panda/proto';
import type { TaskRow } from '../tasks/task-store.js';
import { closeTaskIfDone } from '../tasks/task-progress.js';

/**
 * idds pruned some inputs (a parent finally failed): they will never be released. Mark them
 * missing, count them, and close the task if nothing else is left.
 */
export function onInputsPruned(outbox: Outbox) {
  return async (sql: Sql, event: InputsPruned): Promise<void> => {
    const [task] = await sql.query<TaskRow>(`SELECT * FROM jedi.tasks WHERE task_id = $1 FOR UPDATE`, [
      event.taskId,
    ]);
    if (!task) throw new Error(`task ${event.taskId} of pruned inputs is unknown`);
    const rows = await sql.query(
      `UPDATE jedi.task_inputs SET state = 'missing', modified_at = now()
       WHERE task_id = $1 AND node_id = ANY($2::bigint[]) AND state IN ('defined', 'ready') RETURNING input_id`,
      [event.taskId, event.nodeIds],
    );
    if (rows.length === 0) return;
    const [counted] = await sql.query<TaskRow>(
      `UPDATE jedi.tasks SET inputs_missing = inputs_missing + $2, modified_at = now() WHERE task_id = $1 RETURNING *`,
      [event.taskId, rows.length],
    );
    await closeTaskIfDone(sql, outbox, counted!);
  };
}
